// /api/api-keys — an advertiser's API keys for ingestion: create one (the key and its signing
// secret are shown once) and list them. Network admins act for any advertiser of their network.

import {
  ApiKeySchema,
  CreateApiKeyBody,
  IssuedApiKeySchema,
  ListApiKeysQuery,
  pageOf,
  successBody,
} from "@afftrack/core";
import { advertiserScopeOrThrow, createApiKey, getApiKeyOrThrow, listApiKeys } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerApiKeys(app: Hono<AppEnv>): void {
  app.post(
    "/api/api-keys",
    describe({
      tag: "API keys",
      summary: "Create an API key",
      description: "The key and its v2 signing secret are in this answer only; store them now.",
      auth: "jwt",
      status: 201,
      response: IssuedApiKeySchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("json", CreateApiKeyBody),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const advertiser_id = await advertiserScopeOrThrow(db, caller, c.req.valid("json").advertiser_id);
      const issued = await createApiKey(db, { tenant_id: caller.tenant_id, advertiser_id });
      const key = await getApiKeyOrThrow(db, caller, issued.id);
      return c.json(
        successBody(
          { ...key, key: issued.key, signing_secret: issued.signing_secret },
          "API key created; store it now, it is not shown again",
        ),
        201,
      );
    },
  );

  app.get(
    "/api/api-keys",
    describe({
      tag: "API keys",
      summary: "List API keys",
      description: "Network admins see the whole network or one advertiser's; advertiser users their own.",
      auth: "jwt",
      response: pageOf(ApiKeySchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("query", ListApiKeysQuery),
    async (c) => {
      const caller = callerOf(c);
      const query = c.req.valid("query");
      const db = c.get("db")();
      const advertiserId =
        caller.role === "network_admin" && query.advertiser_id === undefined
          ? undefined
          : await advertiserScopeOrThrow(db, caller, query.advertiser_id);
      return c.json(successBody(await listApiKeys(db, caller.tenant_id, advertiserId, query)));
    },
  );
}
