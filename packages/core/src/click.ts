// The click event: what the edge puts on the `clicks` queue and the consumer writes to Postgres.
// Its valibot schema guards the consumer against malformed or foreign messages.

import * as v from "valibot";
import { CLICK_FLAGS } from "./fraud-rules";
import { CLICK_ID_PATTERN } from "./ids";

export const VERDICTS = [
  "valid",
  "legacy",
  "expired",
  "replay",
  "invalid_signature",
  "bot",
  "geo_blocked",
  "duplicate",
  "paused",
  /** A short-link click on an offer whose short_link_policy is `do_not_count`. */
  "not_counted",
  /** Refused by the offer's datacenter rule (action `reject`). */
  "datacenter",
  /** Beyond the offer's per-IP or per-link click cap (action `reject`). */
  "frequency_cap",
] as const;

export type Verdict = (typeof VERDICTS)[number];

/** Verdicts that count as a billable click. Everything else is recorded but not counted. */
export const COUNTED_VERDICTS: readonly Verdict[] = ["valid", "legacy"];

/**
 * Click verdicts a conversion may be paid on. A duplicate is a real visitor coming back (their
 * first click counted); expired, replayed, tampered, bot, geo-blocked and paused-offer clicks
 * "aren't tracked" (seed), so conversions on them are recorded but pay no one.
 */
export const PAYABLE_CLICK_VERDICTS: readonly string[] = ["valid", "legacy", "duplicate"];

/** Verdicts that are also written to fraud_events. */
export const FRAUD_VERDICTS: readonly Verdict[] = [
  "expired",
  "replay",
  "invalid_signature",
  "geo_blocked",
  "datacenter",
  "frequency_cap",
];

// Postgres cannot store NUL (text or jsonb) nor lone UTF-16 surrogates; one such click would fail
// its whole batch statement, so they are stripped at the edge and refused here.
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NUL = String.fromCharCode(0);

/** The text with what Postgres cannot store removed. */
export function storableText(text: string): string {
  return text.replaceAll(NUL, "").replace(LONE_SURROGATES, "");
}

const isStorable = (text: string) => !text.includes(NUL) && !LONE_SURROGATE.test(text);

const optionalText = (max: number) =>
  v.nullable(
    v.pipe(v.string(), v.maxLength(max), v.check(isStorable, "contains characters Postgres cannot store")),
  );

export const ClickEventSchema = v.object({
  v: v.literal(1),
  click_id: v.pipe(v.string(), v.regex(CLICK_ID_PATTERN)),
  created_at: v.pipe(v.number(), v.integer(), v.minValue(0)),
  tenant_id: v.pipe(v.string(), v.maxLength(64)),
  tracking_code: v.pipe(v.string(), v.maxLength(64)),
  offer_id: v.pipe(v.string(), v.maxLength(64)),
  publisher_id: v.pipe(v.string(), v.maxLength(64)),
  advertiser_id: v.pipe(v.string(), v.maxLength(64)),
  verdict: v.picklist(VERDICTS),
  country: optionalText(2),
  device: optionalText(16),
  os: optionalText(32),
  browser: optionalText(32),
  ip_hash: optionalText(64),
  sub1: optionalText(255),
  sub2: optionalText(255),
  sub3: optionalText(255),
  sub4: optionalText(255),
  sub5: optionalText(255),
  referer: optionalText(1024),
  source: v.picklist(["redirect", "short", "sdk"]),
  /** Counted while Redis was down: replay and dedupe were not checked (absent: false). */
  unverified: v.optional(v.boolean()),
  /** Fraud rules that fired on this click, whatever their action (absent: none). */
  flags: v.optional(v.pipe(v.array(v.picklist(CLICK_FLAGS)), v.maxLength(CLICK_FLAGS.length))),
  /** A fired rule's action is `hold`: conversions on this click wait as pending (absent: false). */
  hold: v.optional(v.boolean()),
});

export type ClickEvent = v.InferOutput<typeof ClickEventSchema>;

/**
 * What the edge puts on the `clicks` queue: every click settled in one window, in one message
 * (one queue operation instead of one per click). Each click is validated on its own by the
 * consumer, so one malformed click never costs the others.
 */
export interface ClickBatchMessage {
  v: 1;
  clicks: ClickEvent[];
}

/** Clicks per queue message: ~100 x ~600 bytes stays well under the 128 KB message limit. */
export const MAX_CLICKS_PER_MESSAGE = 100;

/** The click events in a queue message body: a ClickBatchMessage, or a single ClickEvent. */
export function clickEventsOf(body: unknown): { events: ClickEvent[]; rejected: number } {
  const candidates =
    typeof body === "object" && body !== null && Array.isArray((body as { clicks?: unknown }).clicks)
      ? ((body as { clicks: unknown[] }).clicks as unknown[])
      : [body];
  const events: ClickEvent[] = [];
  let rejected = 0;
  for (const candidate of candidates) {
    const parsed = v.safeParse(ClickEventSchema, candidate);
    if (parsed.success) events.push(parsed.output);
    else rejected++;
  }
  return { events, rejected };
}

export const SUB_ID_MAX_LENGTH = 255;

/** sub1–sub5 from a query string, trimmed to the stored length; absent ones are null. */
export function readSubIds(
  params: URLSearchParams,
): Pick<ClickEvent, "sub1" | "sub2" | "sub3" | "sub4" | "sub5"> {
  const read = (name: string) => {
    const value = params.get(name);
    if (value === null) return null;
    // Cut first, then strip: a cut through a surrogate pair leaves a lone half to remove.
    const clean = storableText(value.slice(0, SUB_ID_MAX_LENGTH));
    return clean === "" ? null : clean;
  };
  return {
    sub1: read("sub1"),
    sub2: read("sub2"),
    sub3: read("sub3"),
    sub4: read("sub4"),
    sub5: read("sub5"),
  };
}
