// Building link records (the edge's view of a tracking code) from Postgres.

import { clampLinkTtl, type LinkRecord } from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema";

export interface LoadedLinkRecord {
  record: LinkRecord;
  /** Seconds the record may be cached: shorter when a retiring secret expires sooner. */
  maxAgeSeconds: number;
}

export const LINK_RECORD_MAX_AGE_SECONDS = 3600;

export async function loadLinkRecord(
  db: Kysely<Database>,
  by: { trackingCode: string } | { shortCode: string },
): Promise<LoadedLinkRecord | null> {
  const row = await db
    .selectFrom("tracking_links as l")
    .innerJoin("offers as o", "o.id", "l.offer_id")
    .innerJoin("advertisers as a", "a.id", "o.advertiser_id")
    .innerJoin("publishers as p", "p.id", "l.publisher_id")
    .select([
      "a.status as advertiser_status",
      "p.status as publisher_status",
      "l.tracking_code",
      "l.short_code",
      "l.tenant_id",
      "l.offer_id",
      "l.publisher_id",
      "o.advertiser_id",
      "o.status",
      "o.destination_url",
      "o.fallback_url",
      "o.allowed_countries",
      "o.blocked_countries",
      "o.link_ttl_seconds",
    ])
    .$if("trackingCode" in by, (q) =>
      q.where("l.tracking_code", "=", (by as { trackingCode: string }).trackingCode),
    )
    .$if("shortCode" in by, (q) => q.where("l.short_code", "=", (by as { shortCode: string }).shortCode))
    .executeTakeFirst();
  if (!row) return null;
  const secrets = await db
    .selectFrom("link_secrets")
    .select(["secret", "expires_at"])
    .where("advertiser_id", "=", row.advertiser_id)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .orderBy("created_at", "desc")
    .execute();
  const now = Date.now();
  let maxAge = LINK_RECORD_MAX_AGE_SECONDS;
  for (const s of secrets) {
    if (s.expires_at)
      maxAge = Math.min(maxAge, Math.max(1, Math.ceil((s.expires_at.getTime() - now) / 1000)));
  }
  return {
    record: {
      v: 1,
      tracking_code: row.tracking_code,
      short_code: row.short_code,
      tenant_id: row.tenant_id,
      offer_id: row.offer_id,
      publisher_id: row.publisher_id,
      advertiser_id: row.advertiser_id,
      // A suspended advertiser or publisher stops counting like a paused offer.
      status:
        row.advertiser_status === "suspended" || row.publisher_status === "suspended" ? "paused" : row.status,
      destination_url: row.destination_url,
      fallback_url: row.fallback_url,
      allowed_countries: row.allowed_countries.map((c) => c.toUpperCase()),
      blocked_countries: row.blocked_countries.map((c) => c.toUpperCase()),
      link_ttl_seconds: clampLinkTtl(row.link_ttl_seconds),
      secrets: secrets.map((s) => s.secret),
    },
    maxAgeSeconds: maxAge,
  };
}

/** Tracking codes of an offer's links: to refresh after the offer changes. */
export async function trackingCodesOfOffer(db: Kysely<Database>, offerId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("tracking_links")
    .select("tracking_code")
    .where("offer_id", "=", offerId)
    .execute();
  return rows.map((r) => r.tracking_code);
}

/** Tracking codes of a publisher's links: to refresh after the publisher changes. */
export async function trackingCodesOfPublisher(db: Kysely<Database>, publisherId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("tracking_links")
    .select("tracking_code")
    .where("publisher_id", "=", publisherId)
    .execute();
  return rows.map((r) => r.tracking_code);
}

/** Tracking codes whose record depends on an advertiser (its offers' links): to refresh after a change. */
export async function trackingCodesOfAdvertiser(
  db: Kysely<Database>,
  advertiserId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom("tracking_links as l")
    .innerJoin("offers as o", "o.id", "l.offer_id")
    .select("l.tracking_code")
    .where("o.advertiser_id", "=", advertiserId)
    .execute();
  return rows.map((r) => r.tracking_code);
}
