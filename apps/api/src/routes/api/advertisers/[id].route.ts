// /api/advertisers/{id} — read (network admins, or an advertiser user their own), update and
// delete (network admins). Suspending or reinstating rewrites the edge's link records at once.

import { AdvertiserSchema, IdParamSchema, successBody, UpdateAdvertiserBody } from "@afftrack/core";
import {
  advertiserNotFound,
  deleteAdvertiserOrThrow,
  getAdvertiserOrThrow,
  trackingCodesOfAdvertiser,
  updateAdvertiserOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { syncLinkRecords } from "../../../services/edge-sync";

export function registerAdvertiser(app: Hono<AppEnv>): void {
  app.get(
    "/api/advertisers/:id",
    describe({
      tag: "Advertisers",
      summary: "Get an advertiser",
      auth: "jwt",
      response: AdvertiserSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const { id } = c.req.valid("param");
      if (caller.role === "advertiser" && caller.advertiser_id !== id) throw advertiserNotFound();
      return c.json(successBody(await getAdvertiserOrThrow(c.get("db")(), caller.tenant_id, id)));
    },
  );

  app.patch(
    "/api/advertisers/:id",
    describe({
      tag: "Advertisers",
      summary: "Update an advertiser",
      description: "Suspending an advertiser stops its links counting at the edge at once.",
      auth: "jwt",
      response: AdvertiserSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    validate("json", UpdateAdvertiserBody),
    async (c) => {
      const caller = callerOf(c);
      const body = c.req.valid("json");
      const db = c.get("db")();
      const advertiser = await updateAdvertiserOrThrow(db, caller.tenant_id, c.req.valid("param").id, body);
      if (body.status !== undefined) {
        // Suspending (or reinstating) an advertiser changes whether its links count at the edge.
        await syncLinkRecords(
          db,
          c.get("redis"),
          await trackingCodesOfAdvertiser(db, advertiser.id),
          c.get("log"),
        );
      }
      return c.json(successBody(advertiser, "Advertiser updated"));
    },
  );

  app.delete(
    "/api/advertisers/:id",
    describe({
      tag: "Advertisers",
      summary: "Delete an advertiser",
      description: "Only an advertiser without offers or users; suspend it otherwise (409).",
      auth: "jwt",
      response: v.object({ id: v.string(), deleted: v.literal(true) }),
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const { id } = c.req.valid("param");
      await deleteAdvertiserOrThrow(c.get("db")(), caller.tenant_id, id);
      return c.json(successBody({ id, deleted: true as const }, "Advertiser deleted"));
    },
  );
}
