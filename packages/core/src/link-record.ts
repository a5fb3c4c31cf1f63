// The link record: everything the edge needs to redirect a tracking code, denormalised from
// Postgres into Redis (`link:{code}`) by the API whenever an offer, link or secret changes.

import * as v from "valibot";

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
});

export type LinkRecord = v.InferOutput<typeof LinkRecordSchema>;

export const linkKey = (code: string) => `link:${code}`;
export const shortKey = (shortCode: string) => `short:${shortCode}`;
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
});

export type ClickAttribution = v.InferOutput<typeof ClickAttributionSchema>;

export const dedupeKey = (code: string, ipHash: string) => `dedupe:${code}:${ipHash}`;

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
