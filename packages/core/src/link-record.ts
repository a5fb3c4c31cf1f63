// The link record: everything the edge needs to redirect a tracking code, denormalised from
// Postgres into Redis (`link:v2:{code}`) by the API whenever an offer, link or secret changes.

import * as v from "valibot";
import { FRAUD_ACTIONS } from "./fraud-rules";

const FrequencyRecordSchema = v.object({
  max_clicks: v.number(),
  window_seconds: v.number(),
  action: v.picklist(FRAUD_ACTIONS),
});

/**
 * What a click through a short link (unsigned, so anyone can repeat it) counts as. The default,
 * `count_deduped`, keeps influencers' bio links paying while one visitor repeating the link, or a
 * script without a real browser's variety, adds at most one valid click per link a day.
 */
export const SHORT_LINK_POLICIES = ["count", "count_deduped", "do_not_count"] as const;
export type ShortLinkPolicy = (typeof SHORT_LINK_POLICIES)[number];
export const DEFAULT_SHORT_LINK_POLICY: ShortLinkPolicy = "count_deduped";
/** `count_deduped`: one valid click per visitor per short link within at least this window. */
export const SHORT_LINK_DEDUPE_SECONDS = 86_400;

/** Who is "the same visitor" for `duplicate`: IP and user agent (default), IP alone, or nobody. */
export const DEDUPE_MODES = ["ip_ua", "ip", "off"] as const;
export type DedupeMode = (typeof DEDUPE_MODES)[number];
export const DEFAULT_DEDUPE_MODE: DedupeMode = "ip_ua";
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 86_400;
export const MIN_DEDUPE_WINDOW_SECONDS = 60;
export const MAX_DEDUPE_WINDOW_SECONDS = 30 * 86_400;

export const LinkRecordSchema = v.object({
  v: v.literal(1),
  tracking_code: v.string(),
  short_code: v.nullable(v.string()),
  tenant_id: v.string(),
  offer_id: v.string(),
  publisher_id: v.string(),
  advertiser_id: v.string(),
  /** Offer status; only "active" counts clicks. */
  status: v.picklist(["active", "paused", "archived"]),
  destination_url: v.string(),
  fallback_url: v.nullable(v.string()),
  allowed_countries: v.array(v.string()),
  blocked_countries: v.array(v.string()),
  link_ttl_seconds: v.number(),
  /** Link-signing secrets currently valid for this code (active first, then ones being retired). */
  secrets: v.array(v.string()),
  /** Optional: records written before these fields existed use the defaults above. */
  short_link_policy: v.optional(v.picklist(SHORT_LINK_POLICIES)),
  dedupe_mode: v.optional(v.picklist(DEDUPE_MODES)),
  dedupe_window_seconds: v.optional(v.number()),
  /** The offer's edge fraud rules (absent: DEFAULT_FRAUD_RULES). */
  fraud: v.optional(
    v.object({
      datacenter: v.picklist(FRAUD_ACTIONS),
      ip_frequency: v.nullable(FrequencyRecordSchema),
      link_frequency: v.nullable(FrequencyRecordSchema),
    }),
  ),
});

export type LinkRecord = v.InferOutput<typeof LinkRecordSchema>;

// v2: records carry the link TTL ceiling (max_link_ttl_seconds) and the dedupe/short-link
// policies; a new prefix means no edge reads a record written before them (they expire unread).
export const linkKey = (code: string) => `link:v2:${code}`;
export const shortKey = (shortCode: string) => `short:v2:${shortCode}`;
export const nonceKey = (nonce: string) => `replay:nonce:${nonce}`;
/**
 * `click:{click_id}` → ClickAttribution, written by the edge once a click's verdict is final, so a
 * conversion can be attributed while the click is still in the queue and not yet in Postgres.
 */
export const clickKey = (clickId: string) => `click:${clickId}`;
export const CLICK_ATTRIBUTION_TTL_SECONDS = 86_400;

export const ClickAttributionSchema = v.object({
  click_id: v.string(),
  tenant_id: v.string(),
  advertiser_id: v.string(),
  offer_id: v.string(),
  publisher_id: v.string(),
  tracking_code: v.string(),
  verdict: v.string(),
  created_at: v.number(),
  /** Counted while Redis was down (replay and dedupe unchecked): conversions on it wait as pending. */
  unverified: v.optional(v.boolean()),
  /** A fraud rule with the action `hold` fired on it: conversions on it wait as pending. */
  hold: v.optional(v.boolean()),
});

export type ClickAttribution = v.InferOutput<typeof ClickAttributionSchema>;

export const dedupeKey = (code: string, visitorHash: string) => `dedupe:${code}:${visitorHash}`;

/** How the edge dedupes a click: by whose identity and for how long; null: not at all. */
export function dedupeRuleFor(
  record: Pick<LinkRecord, "short_link_policy" | "dedupe_mode" | "dedupe_window_seconds">,
  viaShortLink: boolean,
  defaultWindowSeconds: number,
): { mode: "ip" | "ip_ua"; seconds: number } | null {
  const mode = record.dedupe_mode ?? DEFAULT_DEDUPE_MODE;
  const seconds = record.dedupe_window_seconds ?? defaultWindowSeconds;
  if (viaShortLink && (record.short_link_policy ?? DEFAULT_SHORT_LINK_POLICY) === "count_deduped") {
    // Stricter than the offer's own rule: never off, and at least a day.
    return {
      mode: mode === "off" ? "ip_ua" : mode,
      seconds: Math.max(mode === "off" ? 0 : seconds, SHORT_LINK_DEDUPE_SECONDS),
    };
  }
  return mode === "off" || seconds <= 0 ? null : { mode, seconds };
}

/** Seed geo rule: a country is blocked if listed as blocked, or if an allow list exists without it. */
export function isCountryBlocked(
  record: Pick<LinkRecord, "allowed_countries" | "blocked_countries">,
  country: string | null,
): boolean {
  const c = country?.toUpperCase() ?? null;
  if (c && record.blocked_countries.includes(c)) return true;
  if (record.allowed_countries.length > 0) return !c || !record.allowed_countries.includes(c);
  return false;
}
