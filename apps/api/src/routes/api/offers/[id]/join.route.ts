// POST /api/offers/{id}/join (seed: afftok-tracking-links.md, "API: Get Tracking Link") — a
// publisher joins an offer open to them and gets their tracking link, with a freshly signed one.

import { IdParamSchema, JoinedOfferSchema, successBody } from "@afftrack/core";
import { joinOfferOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";
import { syncLinkRecords } from "../../../../services/edge-sync";
import { linkUrls, signLink } from "../../../../services/signed-links";

/** The seed's example answer. */
const EXAMPLE = {
  success: true,
  data: {
    user_offer_id: "uo_xyz789",
    tracking_code: "abc123def456",
    tracking_url: "https://track.afftok.com/c/abc123def456",
    signed_link: "https://track.afftok.com/c/abc123def456.1699876543210.nonce123.sig456",
    short_link: "https://afftok.link/xYz",
    destination_url: "https://example.com/landing",
  },
};

export function registerOfferJoin(app: Hono<AppEnv>): void {
  app.post(
    "/api/offers/:id/join",
    describe({
      tag: "Links",
      summary: "Join an offer",
      description:
        "201 on the first join; joining again answers 200 with the same tracking link and a fresh signature. The signed link counts for the offer's link TTL. A private offer that accepts applications is 403 until the publisher's application is approved.",
      auth: "jwt",
      status: 201,
      response: JoinedOfferSchema,
      example: EXAMPLE,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("publisher"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const { link, created, offer } = await joinOfferOrThrow(db, caller, c.req.valid("param").id);
      if (created) await syncLinkRecords(db, c.get("redis"), [link.tracking_code], c.get("log"));
      const signed = await signLink(
        db,
        c.get("config"),
        { ...offer, tenant_id: caller.tenant_id, tracking_code: link.tracking_code },
        { now: c.get("services").now() },
      );
      const urls = linkUrls(c.get("config"), link);
      return c.json(
        successBody(
          {
            user_offer_id: link.id,
            tracking_code: link.tracking_code,
            tracking_url: urls.tracking_url,
            signed_link: signed.signed_link,
            short_link: urls.short_link,
            destination_url: offer.destination_url,
            expires_at: signed.expires_at,
            ttl_seconds: signed.ttl_seconds,
          },
          created ? "Offer joined" : "Already joined",
        ),
        created ? 201 : 200,
      );
    },
  );
}
