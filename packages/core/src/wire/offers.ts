// Offers of the management API: what an advertiser (or network admin) sends to create, update and
// list them, and the two views the endpoints answer with (the manager's and a publisher's).

import * as v from "valibot";
import { FraudRulesSchema, FraudRulesViewSchema } from "../fraud-rules";
import {
  DEDUPE_MODES,
  MAX_DEDUPE_WINDOW_SECONDS,
  MIN_DEDUPE_WINDOW_SECONDS,
  SHORT_LINK_POLICIES,
} from "../link-record";
import { MAX_LINK_TTL_SECONDS, MIN_LINK_TTL_SECONDS } from "../link-token";
import { normaliseUrlTemplate, type UrlTemplateProblem } from "../macros";
import {
  CountryListSchema,
  CurrencySchema,
  IdSchema,
  IntegerInRange,
  IpListSchema,
  NameSchema,
  PageQueryEntries,
  SearchSchema,
  TimestampSchema,
} from "./fields";
import { EventTypeSchema } from "./ingestion";

export const OFFER_STATUSES = ["active", "paused", "archived"] as const;
const StatusSchema = v.picklist(OFFER_STATUSES);
const PayoutTypeSchema = v.picklist(["cpa", "revshare"]);
const VisibilitySchema = v.picklist(["public", "private"]);

const URL_PROBLEMS: Record<UrlTemplateProblem, string> = {
  control_characters: "must not contain control characters (tab, CR, LF)",
  not_http_url: "must be an http(s) URL",
  macro_outside_path: "macros are allowed only in the path, query and fragment, not in the scheme or host",
};

/**
 * http(s) URL up to 2 KB, stored in its WHATWG-serialised form; `{macro}` placeholders (seed: Sub
 * ID Macros) only in the path, query and fragment, so a visitor's sub ID can never choose the host.
 */
export const OfferUrlSchema = v.pipe(
  v.string(),
  v.check((url) => !/[\t\r\n]/.test(url), URL_PROBLEMS.control_characters),
  v.trim(),
  v.maxLength(2048),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const result = normaliseUrlTemplate(dataset.value);
    if (result.ok) return result.url;
    addIssue({ message: URL_PROBLEMS[result.problem] });
    return NEVER;
  }),
  v.maxLength(2048),
);

/** A link TTL in seconds, within the seed's range (1 minute – 24 hours). */
const linkTtlSeconds = (description: string) =>
  IntegerInRange(MIN_LINK_TTL_SECONDS, MAX_LINK_TTL_SECONDS, description, {
    min: "1 minute",
    max: "24 hours",
  });

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
  currency: v.optional(CurrencySchema),
  allowed_countries: v.optional(CountryListSchema),
  blocked_countries: v.optional(CountryListSchema),
  link_ttl_seconds: v.optional(
    linkTtlSeconds(
      "How long links handed out by the API count when no ttl_minutes is asked for (seed: Link TTL, default 5 minutes); the edge accepts links up to max_link_ttl_seconds, else 24 h",
    ),
  ),
  max_link_ttl_seconds: v.optional(
    v.nullable(
      linkTtlSeconds(
        "The longest TTL a publisher may sign this offer's links for (ttl_minutes); null: 24 hours",
      ),
    ),
  ),
  postback_ip_allowlist: v.optional(IpListSchema),
  attribution_window_days: v.optional(
    IntegerInRange(1, 365, "Days after a click within which its conversions are credited (default 30)"),
  ),
  conversions_per_click: v.optional(
    IntegerInRange(
      1,
      100,
      "Conversions paid per click (default 1), all event types together, or per listed type with paid_event_types; later ones pay nothing",
    ),
  ),
  paid_event_types: v.optional(
    v.pipe(
      v.array(EventTypeSchema),
      v.maxLength(20),
      v.transform((types) => [...new Set(types)]),
      v.description(
        "Event types this offer pays, each with its own per-click cap; empty (default): any event type, sharing one cap",
      ),
    ),
  ),
  visibility: v.optional(VisibilitySchema),
  allowed_publisher_ids: v.optional(
    v.pipe(
      v.array(IdSchema),
      v.maxLength(1000),
      v.transform((ids) => [...new Set(ids)]),
      v.description("Publishers a private offer is open to"),
    ),
  ),
  accepts_applications: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        "A private offer that accepts applications is listed to every publisher of the network, who may apply (POST /api/offers/{id}/apply); approving one adds the publisher to allowed_publisher_ids (default false)",
      ),
    ),
  ),
  short_link_policy: v.optional(
    v.pipe(
      v.picklist(SHORT_LINK_POLICIES),
      v.description(
        "Short links are not signed: `count_deduped` (default) counts one valid click per visitor and link a day, `count` counts them like signed links, `do_not_count` records them as `not_counted`",
      ),
    ),
  ),
  dedupe_mode: v.optional(
    v.pipe(
      v.picklist(DEDUPE_MODES),
      v.description(
        "Who is the same visitor for `duplicate`: `ip_ua` (default; IP and user agent), `ip`, or `off`",
      ),
    ),
  ),
  fraud_rules: v.optional(
    v.pipe(
      FraudRulesSchema,
      v.description(
        "Fraud rules, each with an action (`off`, `flag`, `hold`, `reject`); rules left out keep their current value (defaults: datacenter `flag`, 20 clicks per IP an hour `flag`, no link cap, no conversion-time bounds)",
      ),
    ),
  ),
  dedupe_window_seconds: v.optional(
    IntegerInRange(
      MIN_DEDUPE_WINDOW_SECONDS,
      MAX_DEDUPE_WINDOW_SECONDS,
      "A visitor's repeat click within this many seconds is `duplicate` (default 86400)",
      { min: "1 minute", max: "30 days" },
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
  max_link_ttl_seconds: v.nullable(v.number()),
  attribution_window_days: v.number(),
  conversions_per_click: v.number(),
  paid_event_types: v.array(v.string()),
  created_at: TimestampSchema,
};

/** The advertiser's (and network admin's) view: everything. */
export const OfferSchema = v.object({
  ...common,
  fallback_url: v.nullable(v.string()),
  visibility: VisibilitySchema,
  allowed_publisher_ids: v.array(v.string()),
  accepts_applications: v.boolean(),
  postback_ip_allowlist: v.array(v.string()),
  short_link_policy: v.picklist(SHORT_LINK_POLICIES),
  dedupe_mode: v.picklist(DEDUPE_MODES),
  dedupe_window_seconds: v.number(),
  fraud_rules: FraudRulesViewSchema,
  updated_at: TimestampSchema,
});
export type Offer = v.InferOutput<typeof OfferSchema>;

/** A publisher's view: no other publishers' ids, no postback allowlist; whether they joined. */
export const PublisherOfferSchema = v.object({
  ...common,
  joined: v.boolean(),
  user_offer_id: v.pipe(v.nullable(v.string()), v.description("The publisher's tracking link, once joined")),
  can_join: v.pipe(
    v.boolean(),
    v.description("Open to this publisher (public, or private and admitted); false: apply first"),
  ),
  application_status: v.pipe(
    v.nullable(v.picklist(["pending", "approved", "rejected"])),
    v.description("This publisher's application to the offer, if any"),
  ),
});
export type PublisherOffer = v.InferOutput<typeof PublisherOfferSchema>;

/** What an offer endpoint answers: the manager's view, or a publisher's. */
export const OfferViewSchema = v.union([OfferSchema, PublisherOfferSchema]);
