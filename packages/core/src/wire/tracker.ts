// The influencer tracker (streamtools seed): the postback body of `POST /t/{access_key}`, the
// management resources (customers, access keys, products, stats) and the widget's messages, shared
// by the Durable Object that sends them and the page that reads them.

import * as v from "valibot";
import { parseIp } from "../cidr";
import { IdSchema, NameSchema, PageQueryEntries, TimestampSchema } from "./fields";

/** customer_code and product codes: they appear in widget hosts (`{product}-widget-{customer}`). */
export const TRACKER_CODE_PATTERN = /^[a-z0-9][a-z0-9_]{0,62}$/;
/** Influencer ids appear in widget URL paths: URL-safe characters only. */
export const INFLUENCER_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const TRACKER_KEY_PATTERN = /^tk_[0-9A-Za-z]{40}$/;
export const TRACKER_KEY_PREFIX_LENGTH = 10;

const codeSchema = (what: string) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.toLowerCase(),
    v.regex(
      TRACKER_CODE_PATTERN,
      "must be 1-63 lower-case letters, digits or _ (starting with a letter or digit)",
    ),
    v.description(what),
  );
export const CustomerCodeSchema = codeSchema("The brand's code in widget URLs and hosts");
export const ProductCodeSchema = codeSchema("The widget code (the seed's `product`)");
export const InfluencerIdSchema = v.pipe(
  v.string(),
  v.trim(),
  v.regex(INFLUENCER_ID_PATTERN, "must be 1-128 letters, digits, '.', '_' or '-'"),
  v.description("The influencer's code, the same on the tracker and the widget side"),
);

/** An optional text field: trimmed, and absent when empty after trimming. */
const optionalText = (max: number, description: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.maxLength(max, `must be at most ${max} characters`),
      v.transform((s) => (s === "" ? undefined : s)),
      v.description(description),
    ),
  );

const EventTypeSchema = v.optional(
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^$|^[A-Za-z0-9_.:-]{1,64}$/, "must be up to 64 letters, digits, '_', '.', ':' or '-'"),
    v.transform((s) => (s === "" ? undefined : s)),
    v.description("Event (KPI) code, e.g. `reg`"),
  ),
);

export const TrackerEventBodySchema = v.object({
  influencer_id: InfluencerIdSchema,
  product: ProductCodeSchema,
  event_type: EventTypeSchema,
  event_name: optionalText(200, "Event (KPI) name, e.g. `registration`"),
  campaign: optionalText(200, "Campaign: dashboard data, and widgets can be filtered by it"),
  medium: optionalText(200, "Dashboard data, e.g. `Influencer`"),
  source: optionalText(200, "Dashboard data, e.g. `twitch`"),
  ip: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.maxLength(64, "must be an IP address"),
      v.transform((s) => (s === "" ? undefined : s)),
      v.check((s) => s === undefined || parseIp(s) !== null, "must be an IP address"),
      v.description("The viewer's IP: hashed with a key that changes every UTC day, never stored"),
    ),
  ),
  country: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.toUpperCase(),
      v.regex(/^$|^[A-Z]{2}$/, "must be a 2-letter country code"),
      v.transform((s) => (s === "" ? undefined : s)),
      v.description("The viewer's ISO 3166-1 alpha-2 country"),
    ),
  ),
  user_agent: optionalText(1000, "The viewer's user agent"),
});
export type TrackerEventInput = v.InferOutput<typeof TrackerEventBodySchema>;

export const TrackerKeyParamSchema = v.object({
  access_key: v.pipe(v.string(), v.maxLength(200), v.description("The customer's private access key")),
});

/** The seed's example postback (`URL: https://api-tracker-default.streamtools.io/test-access-key`). */
export const SEED_TRACKER_REQUEST = {
  influencer_id: "influ_test",
  product: "product",
  event_type: "reg",
  event_name: "registration",
  campaign: "Jan2024_special_event",
  medium: "Influencer",
  source: " twitch",
  ip: "132.244.133.122",
  country: "FR",
  user_agent:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
} as const;

export const TrackerEventDataSchema = v.object({
  event_id: v.pipe(v.string(), v.description("The stored event's id")),
  counted: v.pipe(
    v.boolean(),
    v.description(
      "False when the event was kept as filtered (anti-cheat repeat, or an event type the product does not count)",
    ),
  ),
  filtered_reason: v.nullable(v.picklist(["repeat_viewer", "event_type_not_counted"])),
});
export type TrackerEventData = v.InferOutput<typeof TrackerEventDataSchema>;

// ---------------------------------------------------------------------------------------------
// Management: customers, access keys, products

export const CreateTrackerCustomerBody = v.strictObject({
  name: NameSchema,
  customer_code: CustomerCodeSchema,
});
export type CreateTrackerCustomerInput = v.InferOutput<typeof CreateTrackerCustomerBody>;

export const TrackerCustomerSchema = v.object({
  id: IdSchema,
  customer_code: v.string(),
  name: v.string(),
  created_at: TimestampSchema,
});
export type TrackerCustomer = v.InferOutput<typeof TrackerCustomerSchema>;

export const ListTrackerQuery = v.strictObject({ ...PageQueryEntries, customer_id: v.optional(IdSchema) });
export type ListTrackerInput = v.InferOutput<typeof ListTrackerQuery>;

export const CreateTrackerAccessKeyBody = v.strictObject({ customer_id: IdSchema });

export const TrackerAccessKeySchema = v.object({
  id: IdSchema,
  customer_id: IdSchema,
  prefix: v.pipe(v.string(), v.description("The key's first 10 characters")),
  status: v.picklist(["active", "revoked"]),
  last_used_at: v.nullable(TimestampSchema),
  created_at: TimestampSchema,
});
export type TrackerAccessKey = v.InferOutput<typeof TrackerAccessKeySchema>;

export const IssuedTrackerAccessKeySchema = v.object({
  ...TrackerAccessKeySchema.entries,
  key: v.pipe(v.string(), v.description("The access key; shown this once")),
  tracker_url: v.pipe(v.string(), v.description("POST events here")),
});

export const DISPLAY_STYLES = ["bar", "counter", "minimal"] as const;

const productFields = {
  name: NameSchema,
  goal: v.optional(
    v.nullable(
      v.pipe(
        v.number(),
        v.integer("must be an integer"),
        v.minValue(1, "must be at least 1"),
        v.maxValue(2_000_000_000),
        v.description("Goal of the progress bar (null: no goal)"),
      ),
    ),
  ),
  display_style: v.optional(v.picklist(DISPLAY_STYLES)),
  anti_cheat: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        "Count one event per viewer (IP + user agent), product, influencer, event type and UTC day",
      ),
    ),
  ),
  event_types: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be an event type code"))),
      v.maxLength(50),
      v.transform((list) => [...new Set(list)]),
      v.description("Event types the widget counts; empty: all"),
    ),
  ),
  status: v.optional(v.picklist(["active", "paused"])),
};

export const CreateTrackerProductBody = v.strictObject({
  customer_id: IdSchema,
  code: ProductCodeSchema,
  ...productFields,
});
export type CreateTrackerProductInput = v.InferOutput<typeof CreateTrackerProductBody>;

export const UpdateTrackerProductBody = v.pipe(
  v.strictObject({ ...productFields, name: v.optional(NameSchema) }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
export type UpdateTrackerProductInput = v.InferOutput<typeof UpdateTrackerProductBody>;

export const TrackerProductSchema = v.object({
  id: IdSchema,
  customer_id: IdSchema,
  customer_code: v.string(),
  code: v.string(),
  name: v.string(),
  goal: v.nullable(v.number()),
  display_style: v.picklist(DISPLAY_STYLES),
  anti_cheat: v.boolean(),
  event_types: v.array(v.string()),
  status: v.picklist(["active", "paused"]),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
});
export type TrackerProduct = v.InferOutput<typeof TrackerProductSchema>;

export const TrackerTestEventBody = v.strictObject({
  influencer_id: InfluencerIdSchema,
  campaign: optionalText(200, "Only widgets of this campaign (and unfiltered ones) animate"),
  event_type: EventTypeSchema,
  event_name: optionalText(200, "Shown by the widget's alert"),
});

export const TrackerTestEventDataSchema = v.object({
  delivered: v.pipe(v.number(), v.description("Widgets connected when the test event was sent")),
});

// ---------------------------------------------------------------------------------------------
// Stats (from the 15-minute counters)

const DateTimeSchema = v.pipe(
  v.string(),
  v.maxLength(40),
  v.regex(
    /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/,
    "must be an ISO 8601 date or date-time",
  ),
  v.check((s) => !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), "must be a real date"),
);

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TrackerStatsQuery = v.strictObject({
  from: v.pipe(DateTimeSchema, v.description("Start (inclusive); a date means its midnight in `timezone`")),
  to: v.pipe(DateTimeSchema, v.description("End (exclusive); a date means its midnight in `timezone`")),
  interval: v.optional(v.picklist(["hour", "day"]), "day"),
  timezone: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(64),
      v.check(isTimeZone, "must be an IANA time zone"),
      v.description("IANA zone of days and hours (default UTC)"),
    ),
    "UTC",
  ),
  customer_id: v.optional(IdSchema),
  product_id: v.optional(IdSchema),
  influencer_id: v.optional(InfluencerIdSchema),
  campaign: v.optional(v.pipe(v.string(), v.maxLength(200))),
  event_type: v.optional(v.pipe(v.string(), v.maxLength(64))),
});
export type TrackerStatsInput = v.InferOutput<typeof TrackerStatsQuery>;

export const TrackerStatsRowSchema = v.object({
  period: v.pipe(
    v.string(),
    v.description("Start of the hour or day in `timezone`, as an ISO 8601 instant (UTC)"),
  ),
  product_id: IdSchema,
  influencer_id: v.string(),
  campaign: v.nullable(v.string()),
  event_type: v.nullable(v.string()),
  counted: v.number(),
  filtered: v.number(),
});
/** Most rows one stats answer carries; `truncated` says when more matched. */
export const TRACKER_STATS_MAX_ROWS = 10_000;

export const TrackerStatsSchema = v.object({
  rows: v.array(TrackerStatsRowSchema),
  totals: v.pipe(
    v.object({ counted: v.number(), filtered: v.number() }),
    v.description("Over everything that matched, including rows cut by `truncated`"),
  ),
  truncated: v.pipe(
    v.boolean(),
    v.description(
      `True when more than ${TRACKER_STATS_MAX_ROWS} rows matched and only the first were returned: narrow the range or filter`,
    ),
  ),
});
export type TrackerStats = v.InferOutput<typeof TrackerStatsSchema>;

// ---------------------------------------------------------------------------------------------
// The widget: its counter and the messages of its WebSocket

export const WidgetParamSchema = v.object({
  customer_code: CustomerCodeSchema,
  product: ProductCodeSchema,
  influencer_id: InfluencerIdSchema,
});
export const WidgetCampaignParamSchema = v.object({
  ...WidgetParamSchema.entries,
  campaign: v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(200),
    v.check(
      (c) => !/[<>"'`\\]/.test(c) && ![...c].some((ch) => ch.charCodeAt(0) < 32),
      "must be a campaign name",
    ),
    v.description("Only this campaign's events and total"),
  ),
});

export const WidgetCountSchema = v.object({
  customer_code: v.string(),
  product: v.string(),
  influencer_id: v.string(),
  campaign: v.nullable(v.string()),
  total: v.number(),
  goal: v.nullable(v.number()),
});
export type WidgetCount = v.InferOutput<typeof WidgetCountSchema>;

/** One event as widgets see it: never the viewer's data. */
export interface WidgetEvent {
  event_type: string | null;
  event_name: string | null;
  campaign: string | null;
  /** A test event from the management API: animates, does not count. */
  test: boolean;
  at: number;
}

/** What the widget channel sends a widget. `total` is the socket's own (its campaign's, if filtered). */
export type WidgetMessage =
  | { type: "event"; total: number; event: WidgetEvent }
  | { type: "hello"; campaign: string | null };

/** What the API worker posts to a widget channel after an event commits. */
export interface WidgetNotice {
  event: WidgetEvent;
  /** The influencer's total on this product (counted events), when known. */
  total: number | null;
  campaign_totals: Record<string, number>;
}

export interface WidgetStyle {
  color: string;
  accent: string;
  background: string;
  size: number;
  sound: boolean;
}

const COLOR = /^(?:#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,20})$/;
const HEX_ONLY = /^[0-9a-fA-F]{3,8}$/;

function colorOf(value: string | undefined, fallback: string): string {
  if (!value) return fallback;
  const v2 = HEX_ONLY.test(value) && /\d/.test(value) ? `#${value}` : value;
  return COLOR.test(v2) ? v2 : fallback;
}

/**
 * The widget's look from its query string (`color`, `accent`, `bg`, `size`, `sound`): only values
 * that match strict patterns (hex or named colours, a pixel size in 10..200, 0/1) are used, so
 * nothing from the URL can break out of the page's CSS or HTML.
 */
export function widgetStyleOf(query: Record<string, string | undefined>): WidgetStyle {
  const size = Number.parseInt(query.size ?? "", 10);
  return {
    color: colorOf(query.color, "#ffffff"),
    accent: colorOf(query.accent, "#9146ff"),
    background: colorOf(query.bg, "transparent"),
    size: Number.isInteger(size) && size >= 10 && size <= 200 ? size : 48,
    sound: query.sound === "1" || query.sound === "true" || query.sound === "on",
  };
}
