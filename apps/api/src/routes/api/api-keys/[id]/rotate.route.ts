// POST /api/api-keys/{id}/rotate — a new key, active at once; the old one keeps working for the
// overlap window (24 h by default), so clients can switch without a gap, then expires.

import {
  ApiError,
  DEFAULT_KEY_OVERLAP_HOURS,
  IdParamSchema,
  RotateApiKeyBody,
  RotatedApiKeySchema,
  successBody,
} from "@afftrack/core";
import { getApiKeyOrThrow, rotateApiKey } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerApiKeyRotate(app: Hono<AppEnv>): void {
  app.post(
    "/api/api-keys/:id/rotate",
    describe({
      tag: "API keys",
      summary: "Rotate an API key",
      description: "The new key and signing secret are in this answer only; store them now.",
      auth: "jwt",
      status: 201,
      response: RotatedApiKeySchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    validate("json", RotateApiKeyBody),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const old = await getApiKeyOrThrow(db, caller, c.req.valid("param").id);
      const overlapHours = c.req.valid("json").overlap_hours ?? DEFAULT_KEY_OVERLAP_HOURS;
      const issued = await rotateApiKey(db, old.id, { overlapSeconds: overlapHours * 3600 });
      // Revoked or already expired: nothing to rotate.
      if (!issued) throw new ApiError("NOT_FOUND", "API key not found");
      const api_key = {
        ...(await getApiKeyOrThrow(db, caller, issued.id)),
        key: issued.key,
        signing_secret: issued.signing_secret,
      };
      const rotated = await getApiKeyOrThrow(db, caller, old.id);
      return c.json(
        successBody({ api_key, rotated }, "API key rotated; store the new key now, it is not shown again"),
        201,
      );
    },
  );
}
