// GET /api/link-secrets — an advertiser's link-signing secrets that still verify links (the
// current one and those retiring), never the secrets themselves.

import { LinkSecretSchema, ListLinkSecretsQuery, pageOf, successBody } from "@afftrack/core";
import { advertiserScopeOrThrow, listLiveSecrets } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerLinkSecrets(app: Hono<AppEnv>): void {
  app.get(
    "/api/link-secrets",
    describe({
      tag: "Link secrets",
      summary: "List link-signing secrets",
      description:
        "A network admin names the advertiser (`advertiser_id`). One page: `next_cursor` is always null.",
      auth: "jwt",
      response: pageOf(LinkSecretSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("query", ListLinkSecretsQuery),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const advertiser_id = await advertiserScopeOrThrow(db, caller, c.req.valid("query").advertiser_id);
      const items = await listLiveSecrets(db, { tenant_id: caller.tenant_id, advertiser_id });
      return c.json(successBody({ items, next_cursor: null }));
    },
  );
}
