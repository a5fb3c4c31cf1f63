// /api/tracker/access-keys/{id} — revoke a tracker access key (refused within a second everywhere).

import { IdParamSchema, successBody, TrackerAccessKeySchema } from "@afftrack/core";
import { revokeTrackerAccessKeyOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerTrackerAccessKey(app: Hono<AppEnv>): void {
  app.delete(
    "/api/tracker/access-keys/:id",
    describe({
      tag: "Influencer tracker",
      summary: "Revoke a tracker access key",
      auth: "jwt",
      response: TrackerAccessKeySchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const key = await revokeTrackerAccessKeyOrThrow(
        c.get("db")(),
        caller.tenant_id,
        c.req.valid("param").id,
      );
      return c.json(successBody(key, "Access key revoked"));
    },
  );
}
