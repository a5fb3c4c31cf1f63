// Analytics (issue 9): GET /api/stats, /api/stats/live, the fraud insights, raw events and the
// network's time zone. Query strings only; answers in the seed's envelope.

import * as v from "valibot";
import { IdSchema, PageQueryEntries, TimestampSchema } from "./fields";

export const STATS_INTERVALS = ["24h", "7d", "30d", "90d", "mtd", "qtd", "ytd", "all"] as const;
export type StatsInterval = (typeof STATS_INTERVALS)[number];

export const STATS_TIME_GROUPS = ["hour", "day", "week", "month"] as const;
export const STATS_DIMENSIONS = [
  "offer",
  "publisher",
  "country",
  "device",
  "os",
  "browser",
  "sub1",
  "verdict",
] as const;
export const STATS_GROUPS = [...STATS_TIME_GROUPS, ...STATS_DIMENSIONS] as const;
export type StatsGroup = (typeof STATS_GROUPS)[number];

const IANA_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

/** Whether the runtime's ICU knows an IANA zone name (workerd and Node alike). */
export function isIanaTimeZone(zone: string): boolean {
  if (zone.length > 64 || !IANA_ZONE.test(zone)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TimeZoneSchema = v.pipe(
  v.string(),
  v.check(isIanaTimeZone, "must be an IANA time zone, e.g. Europe/Berlin"),
  v.description("IANA time zone, e.g. `Australia/Adelaide`"),
);

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$/;

function isRealDate(s: string): boolean {
  const [y, m, d] = s.slice(0, 10).split("-").map(Number) as [number, number, number];
  if (y < 2000 || y > 2999) return false;
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}

function isRealTime(s: string): boolean {
  const m = /T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(s);
  const off = /([+-])(\d{2}):(\d{2})$/.exec(s);
  if (!m) return true;
  if (Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) return false;
  return !off || (Number(off[2]) <= 15 && Number(off[3]) <= 59);
}

/** `YYYY-MM-DD` (a whole local day) or an ISO datetime (with `Z`/offset: that instant; without: local). */
const DateOrDateTime = (description: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check(
        (s) => (DATE.test(s) || DATETIME.test(s)) && isRealDate(s) && isRealTime(s),
        "must be an ISO date (YYYY-MM-DD) or datetime",
      ),
      v.description(description),
    ),
  );

/** `a,b,-c`: include a or b, exclude c. Values checked one by one. */
export interface MultiFilter {
  include: string[];
  exclude: string[];
}

function multiFilter(value: v.GenericSchema<string, string>, what: string, description: string) {
  return v.optional(
    v.pipe(
      v.string(),
      v.maxLength(2000),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const out: MultiFilter = { include: [], exclude: [] };
        const parts = dataset.value.split(",");
        if (parts.length > 100) {
          addIssue({ message: "at most 100 values" });
          return NEVER;
        }
        for (const raw of parts) {
          const negated = raw.startsWith("-");
          const item = negated ? raw.slice(1) : raw;
          const parsed = v.safeParse(value, item);
          if (!parsed.success) {
            addIssue({ message: `"${item.slice(0, 40)}" is not ${what}` });
            return NEVER;
          }
          (negated ? out.exclude : out.include).push(parsed.output);
        }
        return out;
      }),
      v.description(`${description}; comma-separated values, \`-value\` excludes`),
    ),
  );
}

const CountryCode = v.pipe(v.string(), v.toUpperCase(), v.regex(/^[A-Z]{2}$/));
const FreeText = v.pipe(v.string(), v.minLength(1), v.maxLength(200), v.regex(/^[^\p{Cc}]*$/u));
const BooleanString = (description: string) =>
  v.optional(
    v.pipe(
      v.picklist(["true", "false"]),
      v.transform((s) => s === "true"),
      v.description(description),
    ),
    "false",
  );

const GroupBy = v.optional(
  v.pipe(
    v.string(),
    v.maxLength(200),
    v.transform((s) => s.split(",").filter((x) => x.length > 0)),
    v.check(
      (list) => list.every((g) => (STATS_GROUPS as readonly string[]).includes(g)),
      `must be a comma list of ${STATS_GROUPS.join(", ")}`,
    ),
    v.transform((list) => [...new Set(list)] as StatsGroup[]),
    v.description(`Comma list of ${STATS_GROUPS.join(", ")}, combinable`),
  ),
  "",
);

const RangeEntries = {
  from: DateOrDateTime("Start: a local date (its 00:00) or an ISO datetime; floored to 15 minutes"),
  to: DateOrDateTime(
    "End: a local date (inclusive, to its end) or an ISO datetime (exclusive); ceiled to 15 minutes",
  ),
  interval: v.optional(
    v.pipe(
      v.picklist(STATS_INTERVALS),
      v.description(
        "Instead of from/to: the last 24 whole hours (24h); the last 7, 30 or 90 local days, today included (7d, 30d, 90d); month/quarter/year to date; or all",
      ),
    ),
  ),
  timezone: v.optional(TimeZoneSchema),
};

const FilterEntries = {
  offer_id: multiFilter(IdSchema, "an id", "Offer ids"),
  publisher_id: multiFilter(IdSchema, "an id", "Publisher ids"),
  country: multiFilter(CountryCode, "a 2-letter country code", "Country codes"),
  device: multiFilter(FreeText, "a device", "Devices"),
  sub1: multiFilter(FreeText, "a sub1 value", "sub1 values"),
  include_bots: BooleanString("Count clicks with the `bot` verdict too (default false)"),
};

/** The range and filter parameters every analytics read takes. */
export const StatsRangeQuery = v.strictObject({ ...RangeEntries, ...FilterEntries });
export type StatsRangeInput = v.InferOutput<typeof StatsRangeQuery>;

export const StatsQuery = v.strictObject({
  ...RangeEntries,
  group_by: GroupBy,
  ...FilterEntries,
  compare: v.optional(
    v.pipe(
      v.picklist(["previous_period"]),
      v.description("Also answer the previous period's same elapsed part"),
    ),
  ),
});
export type StatsQueryInput = v.InferOutput<typeof StatsQuery>;

const MoneyMap = v.pipe(
  v.record(v.string(), v.string()),
  v.description("Amounts keyed by ISO 4217 currency, as exact decimal strings"),
);

export const StatsMetricsEntries = {
  clicks: v.pipe(v.number(), v.description("Gross clicks (every verdict; bots only with include_bots)")),
  unique_clicks: v.pipe(v.number(), v.description("First click of a visitor on a link in a UTC day")),
  valid_clicks: v.pipe(v.number(), v.description("Clicks with a counted verdict (valid, legacy)")),
  fraud_clicks: v.pipe(v.number(), v.description("Clicks with a fraud verdict")),
  conversions: v.pipe(v.number(), v.description("Conversions of every status")),
  approved_conversions: v.number(),
  pending_conversions: v.number(),
  rejected_conversions: v.number(),
  revenue: v.pipe(
    MoneyMap,
    v.description("Approved conversions' revenue per currency (never shown to publishers)"),
  ),
  payout: v.pipe(MoneyMap, v.description("Approved conversions' payout per currency")),
  cr: v.pipe(
    v.nullable(v.number()),
    v.description("conversions / valid_clicks × 100; null without valid clicks"),
  ),
  epc: v.pipe(MoneyMap, v.description("payout / valid_clicks per currency (earnings per click)")),
};

export const StatsRowSchema = v.looseObject({
  ...StatsMetricsEntries,
});

const StatsPeriodEntries = {
  from: TimestampSchema,
  to: TimestampSchema,
  rows: v.array(StatsRowSchema),
  totals: v.object(StatsMetricsEntries),
};

export const StatsSchema = v.object({
  timezone: v.string(),
  group_by: v.array(v.picklist(STATS_GROUPS)),
  ...StatsPeriodEntries,
  truncated: v.pipe(v.boolean(), v.description("True when rows were cut at 10,000 groups")),
  previous: v.optional(v.object(StatsPeriodEntries)),
});
export type Stats = v.InferOutput<typeof StatsSchema>;

// ---------------------------------------------------------------------------------------------
// Live: per-minute counts of the last 60 minutes (from the raw clicks of the current partition)

export const LiveStatsSchema = v.object({
  minutes: v.array(
    v.object({
      minute: TimestampSchema,
      clicks: v.number(),
      valid_clicks: v.number(),
      fraud_clicks: v.number(),
      conversions: v.number(),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------
// The network's settings

export const NetworkSettingsSchema = v.object({
  id: IdSchema,
  name: v.string(),
  timezone: v.pipe(v.string(), v.description("IANA time zone the stats default to")),
});
export const UpdateNetworkBody = v.strictObject({ timezone: TimeZoneSchema });

// ---------------------------------------------------------------------------------------------
// Fraud insights (from the rollups) and the raw fraud events

const VerdictCounts = v.pipe(v.record(v.string(), v.number()), v.description("Clicks per verdict"));
const FraudGroupSchema = v.looseObject({
  clicks: v.number(),
  valid_clicks: v.number(),
  fraud_clicks: v.number(),
  filtered_share: v.pipe(v.nullable(v.number()), v.description("Share of clicks not counted (0..1)")),
  by_verdict: VerdictCounts,
});

export const FraudInsightsSchema = v.object({
  timezone: v.string(),
  from: TimestampSchema,
  to: TimestampSchema,
  totals: FraudGroupSchema,
  over_time: v.pipe(v.array(FraudGroupSchema), v.description("Per local day (`day` key)")),
  by_publisher: v.pipe(v.array(FraudGroupSchema), v.description("Top 20 publishers by fraud clicks")),
  by_sub1: v.pipe(v.array(FraudGroupSchema), v.description("Top 20 sub1 values by fraud clicks")),
  top_sources: v.pipe(v.array(FraudGroupSchema), v.description("Top 10 (publisher, sub1) by fraud clicks")),
  rules: v.pipe(
    v.record(v.string(), v.number()),
    v.description(
      "Fraud events in the range per kind: refused verdicts (expired, replay, ...), the fraud rules' flags on clicks (datacenter, ip_frequency, link_frequency: counted or not, whatever the rule's action) and on conversions (conversion_too_fast, conversion_too_slow)",
    ),
  ),
  rules_over_time: v.pipe(
    v.array(v.object({ day: v.string(), by_kind: v.record(v.string(), v.number()) })),
    v.description("Fraud events per local day and kind"),
  ),
  held_clicks: v.pipe(v.number(), v.description("Flagged clicks whose conversions are held for review")),
  unverified_clicks: v.pipe(
    v.number(),
    v.description("Clicks counted without the edge's checks (recorded while Redis was unreachable)"),
  ),
});

export const FraudEventsQuery = v.strictObject({
  ...PageQueryEntries,
  kind: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z_]{1,40}$/),
      v.description("A fraud verdict or rule, e.g. `replay`, `datacenter`, `conversion_too_fast`"),
    ),
  ),
  offer_id: v.optional(IdSchema),
  publisher_id: v.optional(IdSchema),
  from: v.optional(v.pipe(v.string(), v.isoTimestamp(), v.description("ISO datetime, inclusive"))),
  to: v.optional(v.pipe(v.string(), v.isoTimestamp(), v.description("ISO datetime, exclusive"))),
});
export type FraudEventsInput = v.InferOutput<typeof FraudEventsQuery>;

export const FraudEventSchema = v.object({
  id: v.string(),
  kind: v.string(),
  click_id: v.nullable(v.string()),
  offer_id: v.nullable(v.string()),
  publisher_id: v.nullable(v.string()),
  tracking_code: v.nullable(v.string()),
  detail: v.unknown(),
  created_at: TimestampSchema,
});

// ---------------------------------------------------------------------------------------------
// Raw events (keyset pages) and CSV exports

export const EventsQuery = v.strictObject({
  ...PageQueryEntries,
  type: v.optional(v.pipe(v.picklist(["clicks", "conversions"]), v.description("Default clicks")), "clicks"),
  offer_id: v.optional(IdSchema),
  publisher_id: v.optional(IdSchema),
  verdict: v.optional(v.pipe(v.string(), v.regex(/^[a-z_]{1,40}$/), v.description("Clicks: one verdict"))),
  status: v.optional(
    v.pipe(v.picklist(["pending", "approved", "rejected"]), v.description("Conversions: one status")),
  ),
  from: v.optional(v.pipe(v.string(), v.isoTimestamp(), v.description("ISO datetime, inclusive"))),
  to: v.optional(v.pipe(v.string(), v.isoTimestamp(), v.description("ISO datetime, exclusive"))),
});
export type EventsInput = v.InferOutput<typeof EventsQuery>;

export const EventSchema = v.pipe(
  v.record(v.string(), v.unknown()),
  v.description(
    "A click (click_id, created_at, verdict, offer_id, publisher_id, country, device, os, browser, sub1..sub5, source) or a conversion (id, transaction_id, status, amount, currency, payout, payout_currency, ...)",
  ),
);

export const ExportQuery = v.strictObject({
  from: v.pipe(v.string(), v.isoTimestamp(), v.description("ISO datetime, inclusive")),
  to: v.pipe(v.string(), v.isoTimestamp(), v.description("ISO datetime, exclusive")),
  offer_id: v.optional(IdSchema),
  publisher_id: v.optional(IdSchema),
});
export type ExportInput = v.InferOutput<typeof ExportQuery>;
