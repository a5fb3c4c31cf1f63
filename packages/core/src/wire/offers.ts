// Offers of the management API: what an advertiser (or network admin) sends to create, update and
// list them, and the two views the endpoints answer with (the manager's and a publisher's).

import * as v from "valibot";
import { MAX_LINK_TTL_SECONDS, MIN_LINK_TTL_SECONDS } from "../link-token";
import {
  CountryListSchema,
  IdSchema,
  IpListSchema,
  NameSchema,
  PageQueryEntries,
  SearchSchema,
  TimestampSchema,
} from "./fields";

export const OFFER_STATUSES = ["active", "paused", "archived"] as const;
const StatusSchema = v.picklist(OFFER_STATUSES);
const PayoutTypeSchema = v.picklist(["cpa", "revshare"]);
const VisibilitySchema = v.picklist(["public", "private"]);

/** http(s) URL up to 2 KB; `{macro}` placeholders are allowed anywhere (seed: Sub ID Macros). */
export const OfferUrlSchema = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(2048),
  v.check((url) => {
    try {
      const parsed = new URL(url.replace(/\{[a-z_0-9]+\}/g, "x"));
      return (parsed.protocol === "https:" || parsed.protocol === "http:") && parsed.hostname.length > 0;
    } catch {
      return false;
    }
  }, "must be an http(s) URL"),
);

const fields = {
  name: NameSchema,
  destination_url: v.pipe(
    OfferUrlSchema,
    v.description("Where a click goes; `{click_id}` and other macros allowed"),
  ),
  fallback_url: v.optional(
    v.nullable(v.pipe(OfferUrlSchema, v.description("Where a click on a paused or archived offer goes"))),
  ),
  status: v.optional(StatusSchema),
  payout_type: v.optional(PayoutTypeSchema),
  payout_amount: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      v.maxValue(1_000_000_000),
      v.description("Per conversion (cpa), or a percentage of the sale (revshare, at most 100)"),
    ),
  ),
  currency: v.optional(
    v.pipe(v.string(), v.toUpperCase(), v.regex(/^[A-Z]{3}$/, "must be a 3-letter currency code")),
  ),
  allowed_countries: v.optional(CountryListSchema),
  blocked_countries: v.optional(CountryListSchema),
  link_ttl_seconds: v.optional(
    v.pipe(
      v.number(),
      v.integer("must be an integer"),
      v.minValue(MIN_LINK_TTL_SECONDS, "must be at least 60 (1 minute)"),
      v.maxValue(MAX_LINK_TTL_SECONDS, "must be at most 86400 (24 hours)"),
      v.description("How long a signed link counts (seed: Link TTL, default 5 minutes)"),
    ),
  ),
  postback_ip_allowlist: v.optional(IpListSchema),
  visibility: v.optional(VisibilitySchema),
  allowed_publisher_ids: v.optional(
    v.pipe(
      v.array(IdSchema),
      v.maxLength(1000),
      v.transform((ids) => [...new Set(ids)]),
      v.description("Publishers a private offer is open to"),
    ),
  ),
};

export const CreateOfferBody = v.strictObject({
  ...fields,
  advertiser_id: v.optional(
    v.pipe(IdSchema, v.description("Required for a network admin; an advertiser user creates their own")),
  ),
});
export type CreateOfferInput = v.InferOutput<typeof CreateOfferBody>;

export const UpdateOfferBody = v.pipe(
  v.strictObject({
    ...fields,
    name: v.optional(NameSchema),
    destination_url: v.optional(OfferUrlSchema),
  }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
export type UpdateOfferInput = v.InferOutput<typeof UpdateOfferBody>;

export const ListOffersQuery = v.strictObject({
  ...PageQueryEntries,
  status: v.optional(StatusSchema),
  advertiser_id: v.optional(IdSchema),
  visibility: v.optional(VisibilitySchema),
  q: SearchSchema,
});
export type ListOffersInput = v.InferOutput<typeof ListOffersQuery>;

const common = {
  id: IdSchema,
  advertiser_id: IdSchema,
  name: v.string(),
  destination_url: v.string(),
  status: StatusSchema,
  payout_type: PayoutTypeSchema,
  payout_amount: v.number(),
  currency: v.string(),
  allowed_countries: v.array(v.string()),
  blocked_countries: v.array(v.string()),
  link_ttl_seconds: v.number(),
  created_at: TimestampSchema,
};

/** The advertiser's (and network admin's) view: everything. */
export const OfferSchema = v.object({
  ...common,
  fallback_url: v.nullable(v.string()),
  visibility: VisibilitySchema,
  allowed_publisher_ids: v.array(v.string()),
  postback_ip_allowlist: v.array(v.string()),
  updated_at: TimestampSchema,
});
export type Offer = v.InferOutput<typeof OfferSchema>;

/** A publisher's view: no other publishers' ids, no postback allowlist; whether they joined. */
export const PublisherOfferSchema = v.object({
  ...common,
  joined: v.boolean(),
  user_offer_id: v.pipe(v.nullable(v.string()), v.description("The publisher's tracking link, once joined")),
});
export type PublisherOffer = v.InferOutput<typeof PublisherOfferSchema>;

/** What an offer endpoint answers: the manager's view, or a publisher's. */
export const OfferViewSchema = v.union([OfferSchema, PublisherOfferSchema]);
