// /api/offers — advertisers (and network admins, naming the advertiser) create offers; everyone
// lists: managers the offers they manage, publishers those open to them.

import {
  CreateOfferBody,
  ListOffersQuery,
  OfferSchema,
  OfferViewSchema,
  pageOf,
  successBody,
} from "@afftrack/core";
import { createOffer, listOffers } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerOffers(app: Hono<AppEnv>): void {
  app.post(
    "/api/offers",
    describe({
      tag: "Offers",
      summary: "Create an offer",
      description:
        "A network admin names the advertiser (`advertiser_id`); an advertiser user creates their own.",
      auth: "jwt",
      status: 201,
      response: OfferSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("json", CreateOfferBody),
    async (c) => {
      const caller = callerOf(c);
      const offer = await createOffer(c.get("db")(), caller, c.req.valid("json"));
      return c.json(successBody(offer, "Offer created"), 201);
    },
  );

  app.get(
    "/api/offers",
    describe({
      tag: "Offers",
      summary: "List offers",
      description:
        "Managers see the offers they manage; a publisher sees the active offers open to them (public, or private and listing them), with whether they joined.",
      auth: "jwt",
      response: pageOf(OfferViewSchema),
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", ListOffersQuery),
    async (c) => {
      return c.json(successBody(await listOffers(c.get("db")(), callerOf(c), c.req.valid("query"))));
    },
  );
}
