// /api/advertisers — network admins create advertisers (each with its first link-signing secret)
// and list those of their network.

import {
  AdvertiserSchema,
  CreateAdvertiserBody,
  ListAdvertisersQuery,
  pageOf,
  successBody,
} from "@afftrack/core";
import { createAdvertiser, listAdvertisers } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerAdvertisers(app: Hono<AppEnv>): void {
  app.post(
    "/api/advertisers",
    describe({
      tag: "Advertisers",
      summary: "Create an advertiser",
      auth: "jwt",
      status: 201,
      response: AdvertiserSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("json", CreateAdvertiserBody),
    async (c) => {
      const caller = callerOf(c);
      const advertiser = await createAdvertiser(c.get("db")(), caller.tenant_id, c.req.valid("json"));
      return c.json(successBody(advertiser, "Advertiser created"), 201);
    },
  );

  app.get(
    "/api/advertisers",
    describe({
      tag: "Advertisers",
      summary: "List the network's advertisers",
      auth: "jwt",
      response: pageOf(AdvertiserSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListAdvertisersQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(
        successBody(await listAdvertisers(c.get("db")(), caller.tenant_id, c.req.valid("query"))),
      );
    },
  );
}
