// Tracking links of the management API (seed: afftok-tracking-links.md, "API: Get Tracking Link"
// and "API: Generate New Signed Link"): the join answer, signing a fresh link, listing links.

import * as v from "valibot";
import { IdSchema, IntegerInRange, PageQueryEntries, TimestampSchema } from "./fields";

const expiry = {
  expires_at: v.pipe(TimestampSchema, v.description("When the edge stops counting the signed link")),
  ttl_seconds: v.pipe(v.number(), v.description("Seconds the signed link counts, from now")),
};

/** `POST /api/offers/{id}/join`: the seed's fields, plus the signed link's expiry. */
export const JoinedOfferSchema = v.object({
  user_offer_id: v.pipe(IdSchema, v.description("The publisher's tracking link on this offer")),
  tracking_code: v.string(),
  tracking_url: v.pipe(
    v.string(),
    v.description("Unsigned link (counts only where legacy links are allowed)"),
  ),
  signed_link: v.string(),
  short_link: v.nullable(v.string()),
  destination_url: v.string(),
  ...expiry,
});
export type JoinedOffer = v.InferOutput<typeof JoinedOfferSchema>;

export const SignLinkBody = v.strictObject({
  tracking_code: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  ttl_minutes: v.optional(
    IntegerInRange(
      1,
      1440,
      "Any TTL of the seed's range, at most the offer's max_link_ttl_seconds when the advertiser set one (default: the offer's link_ttl_seconds)",
      { max: "24 hours" },
    ),
  ),
});
export type SignLinkInput = v.InferOutput<typeof SignLinkBody>;

export const SignedLinkSchema = v.object({ signed_link: v.string(), ...expiry });
export type SignedLink = v.InferOutput<typeof SignedLinkSchema>;

export const ListLinksQuery = v.strictObject({
  ...PageQueryEntries,
  offer_id: v.optional(IdSchema),
  publisher_id: v.optional(IdSchema),
});
export type ListLinksInput = v.InferOutput<typeof ListLinksQuery>;

export const TrackingLinkSchema = v.object({
  user_offer_id: IdSchema,
  offer_id: IdSchema,
  offer_name: v.string(),
  offer_status: v.picklist(["active", "paused", "archived"]),
  publisher_id: IdSchema,
  tracking_code: v.string(),
  short_code: v.nullable(v.string()),
  tracking_url: v.string(),
  short_link: v.nullable(v.string()),
  created_at: TimestampSchema,
});
export type TrackingLink = v.InferOutput<typeof TrackingLinkSchema>;
