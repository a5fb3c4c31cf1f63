// The click event: what the edge puts on the `clicks` queue and the consumer writes to Postgres.
// Its valibot schema guards the consumer against malformed or foreign messages.

import * as v from "valibot";
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
] as const;

export type Verdict = (typeof VERDICTS)[number];

/** Verdicts that count as a billable click. Everything else is recorded but not counted. */
export const COUNTED_VERDICTS: readonly Verdict[] = ["valid", "legacy"];

/** Verdicts that are also written to fraud_events. */
export const FRAUD_VERDICTS: readonly Verdict[] = ["expired", "replay", "invalid_signature", "geo_blocked"];

const optionalText = (max: number) => v.nullable(v.pipe(v.string(), v.maxLength(max)));

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
});

export type ClickEvent = v.InferOutput<typeof ClickEventSchema>;

export const SUB_ID_MAX_LENGTH = 255;

/** sub1–sub5 from a query string, trimmed to the stored length; absent ones are null. */
export function readSubIds(
  params: URLSearchParams,
): Pick<ClickEvent, "sub1" | "sub2" | "sub3" | "sub4" | "sub5"> {
  const read = (name: string) => {
    const value = params.get(name);
    return value === null || value === "" ? null : value.slice(0, SUB_ID_MAX_LENGTH);
  };
  return {
    sub1: read("sub1"),
    sub2: read("sub2"),
    sub3: read("sub3"),
    sub4: read("sub4"),
    sub5: read("sub5"),
  };
}
