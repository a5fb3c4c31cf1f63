// /api/api-keys/{id} — revoke an API key at once (its advertiser's users, or a network admin).

import { ApiKeySchema, IdParamSchema, successBody } from "@afftrack/core";
import { getApiKeyOrThrow, revokeApiKey } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerApiKey(app: Hono<AppEnv>): void {
  app.delete(
    "/api/api-keys/:id",
    describe({
      tag: "API keys",
      summary: "Revoke an API key",
      auth: "jwt",
      response: ApiKeySchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const key = await getApiKeyOrThrow(db, caller, c.req.valid("param").id);
      await revokeApiKey(db, key.id, { advertiserId: key.advertiser_id });
      return c.json(successBody(await getApiKeyOrThrow(db, caller, key.id), "API key revoked"));
    },
  );
}
