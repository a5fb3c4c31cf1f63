// /api/offers/{id} — read (managers, or a publisher an offer open to them or joined), update and
// archive (managers). Every change the edge depends on rewrites the offer's link records at once.

import { IdParamSchema, OfferSchema, OfferViewSchema, successBody, UpdateOfferBody } from "@afftrack/core";
import { archiveOfferOrThrow, getOfferOrThrow, trackingCodesOfOffer, updateOfferOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { syncLinkRecords } from "../../../services/edge-sync";

export function registerOffer(app: Hono<AppEnv>): void {
  app.get(
    "/api/offers/:id",
    describe({
      tag: "Offers",
      summary: "Get an offer",
      auth: "jwt",
      response: OfferViewSchema,
      errors: ["UNAUTHORIZED", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    async (c) => {
      return c.json(successBody(await getOfferOrThrow(c.get("db")(), callerOf(c), c.req.valid("param").id)));
    },
  );

  app.patch(
    "/api/offers/:id",
    describe({
      tag: "Offers",
      summary: "Update an offer",
      description: "Pausing, new destinations, geo rules and TTLs reach the edge at once.",
      auth: "jwt",
      response: OfferSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    validate("json", UpdateOfferBody),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const offer = await updateOfferOrThrow(db, caller, c.req.valid("param").id, c.req.valid("json"));
      await syncLinkRecords(db, c.get("redis"), await trackingCodesOfOffer(db, offer.id), c.get("log"));
      return c.json(successBody(offer, "Offer updated"));
    },
  );

  app.delete(
    "/api/offers/:id",
    describe({
      tag: "Offers",
      summary: "Archive an offer",
      description:
        "Offers keep their click and conversion history, so deleting archives: its links stop counting.",
      auth: "jwt",
      response: OfferSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    async (c) => {
      const db = c.get("db")();
      const offer = await archiveOfferOrThrow(db, callerOf(c), c.req.valid("param").id);
      await syncLinkRecords(db, c.get("redis"), await trackingCodesOfOffer(db, offer.id), c.get("log"));
      return c.json(successBody(offer, "Offer archived"));
    },
  );
}
