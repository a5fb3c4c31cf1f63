// Conversions and SDK clicks, written by the ingestion API. Each write is one statement (or, for a
// status change, one short transaction) that also keeps stats_daily in step, so a refused or
// duplicate request changes nothing and a counted conversion is counted exactly once.

import type { ClickAttribution } from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import type { ConversionAttribution, Database } from "./schema";

export interface IngestOffer {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  status: string;
  payout_type: "cpa" | "revshare";
  payout_amount: number;
  currency: string;
  allowed_countries: string[];
  blocked_countries: string[];
  postback_ip_allowlist: string[];
}

/** A click as attribution needs it (a `clicks` row, or the edge's Redis copy of a queued one). */
export type IngestClick = Omit<ClickAttribution, "created_at">;

interface OfferRow extends Omit<IngestOffer, "payout_amount"> {
  payout_amount: string;
}

const OFFER_COLUMNS = sql`o.id, o.tenant_id, o.advertiser_id, o.status, o.payout_type, o.payout_amount,
  o.currency, o.allowed_countries, o.blocked_countries, o.postback_ip_allowlist`;

function toOffer(row: OfferRow): IngestOffer {
  return { ...row, currency: row.currency.trim(), payout_amount: Number(row.payout_amount) };
}

/** The advertiser's offer and, when a click_id is given, that click from Postgres: one round trip. */
export async function loadConversionContext(
  db: Kysely<Database>,
  p: { advertiserId: string; offerId: string; clickId: string | null },
): Promise<{ offer: IngestOffer | null; click: IngestClick | null }> {
  const result = await sql<OfferRow & { click: IngestClick | null }>`
    SELECT ${OFFER_COLUMNS},
      (SELECT to_jsonb(c) FROM (
         SELECT click_id, tenant_id, advertiser_id, offer_id, publisher_id, tracking_code, verdict
         FROM clicks WHERE click_id = ${p.clickId}) c) AS click
    FROM offers o WHERE o.id = ${p.offerId} AND o.advertiser_id = ${p.advertiserId}
  `.execute(db);
  const row = result.rows[0];
  if (!row) return { offer: null, click: null };
  const { click, ...offer } = row;
  return { offer: toOffer(offer), click: click ?? null };
}

export async function loadOffer(
  db: Kysely<Database>,
  p: { advertiserId: string; offerId: string },
): Promise<IngestOffer | null> {
  const result = await sql<OfferRow>`
    SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.id = ${p.offerId} AND o.advertiser_id = ${p.advertiserId}
  `.execute(db);
  const row = result.rows[0];
  return row ? toOffer(row) : null;
}

/** The offer and the publisher behind a tracking code of that offer (null publisher: not its link). */
export async function loadClickContext(
  db: Kysely<Database>,
  p: { advertiserId: string; offerId: string; trackingCode: string },
): Promise<{ offer: IngestOffer; publisherId: string | null } | null> {
  const result = await sql<OfferRow & { publisher_id: string | null }>`
    SELECT ${OFFER_COLUMNS}, l.publisher_id
    FROM offers o LEFT JOIN tracking_links l ON l.offer_id = o.id AND l.tracking_code = ${p.trackingCode}
    WHERE o.id = ${p.offerId} AND o.advertiser_id = ${p.advertiserId}
  `.execute(db);
  const row = result.rows[0];
  if (!row) return null;
  const { publisher_id, ...offer } = row;
  return { offer: toOffer(offer), publisherId: publisher_id };
}

export interface NewConversion {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  offer_id: string;
  transaction_id: string;
  click_id: string | null;
  publisher_id: string | null;
  tracking_code: string | null;
  click_verdict: string | null;
  reported_click_id: string | null;
  attribution: ConversionAttribution;
  status: "pending" | "approved" | "rejected";
  amount: number;
  currency: string;
  payout: number;
  payout_currency: string;
  revenue_in_rollup: boolean;
  payout_in_rollup: boolean;
  source: "postback" | "sdk" | "batch";
  api_key_id: string | null;
  user_id: string | null;
  device_info: unknown;
  custom_params: unknown;
  metadata: unknown;
  sdk_version: string | null;
  sdk_platform: string | null;
}

const jsonb = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * Inserts the conversion, its first history entry and (approved and attributed only) its rollup in
 * one statement. Returns null when (advertiser_id, transaction_id) already exists: the unique index
 * decides, so concurrent duplicates cannot both succeed.
 */
export async function insertConversion(
  db: Kysely<Database>,
  c: NewConversion,
): Promise<{ id: string; created_at: Date } | null> {
  const result = await sql<{ id: string; created_at: Date }>`
    WITH ins AS (
      INSERT INTO conversions (id, tenant_id, advertiser_id, offer_id, transaction_id, click_id,
        publisher_id, tracking_code, click_verdict, reported_click_id, attribution, status, amount,
        currency, payout, payout_currency, revenue_in_rollup, payout_in_rollup, source, api_key_id,
        user_id, device_info, custom_params, metadata, sdk_version, sdk_platform)
      VALUES (${c.id}, ${c.tenant_id}, ${c.advertiser_id}, ${c.offer_id}, ${c.transaction_id},
        ${c.click_id}, ${c.publisher_id}, ${c.tracking_code}, ${c.click_verdict}, ${c.reported_click_id},
        ${c.attribution}, ${c.status}, ${c.amount}, ${c.currency}, ${c.payout}, ${c.payout_currency},
        ${c.revenue_in_rollup}, ${c.payout_in_rollup}, ${c.source}, ${c.api_key_id}, ${c.user_id},
        ${jsonb(c.device_info)}::jsonb, ${jsonb(c.custom_params)}::jsonb, ${jsonb(c.metadata)}::jsonb,
        ${c.sdk_version}, ${c.sdk_platform})
      ON CONFLICT (advertiser_id, transaction_id) DO NOTHING
      RETURNING id, tenant_id, offer_id, publisher_id, status, amount, payout, revenue_in_rollup,
        payout_in_rollup, created_at
    ), hist AS (
      INSERT INTO conversion_status_history (conversion_id, tenant_id, from_status, to_status, source)
      SELECT id, tenant_id, NULL, status, ${c.source} FROM ins
      RETURNING 1
    ), stats AS (
      INSERT INTO stats_daily AS s (tenant_id, day, offer_id, publisher_id, conversions, revenue, payout)
      SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, offer_id, publisher_id, 1,
        CASE WHEN revenue_in_rollup THEN amount ELSE 0 END, CASE WHEN payout_in_rollup THEN payout ELSE 0 END
      FROM ins WHERE publisher_id IS NOT NULL AND status = 'approved'
      ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET
        conversions = s.conversions + excluded.conversions,
        revenue = s.revenue + excluded.revenue,
        payout = s.payout + excluded.payout
      RETURNING 1
    )
    SELECT id, created_at, (SELECT count(*) FROM hist) AS history, (SELECT count(*) FROM stats) AS rollups
    FROM ins
  `.execute(db);
  return result.rows[0] ?? null;
}

export type StatusChangeResult =
  | { kind: "not_found" }
  | { kind: "unchanged"; id: string; transaction_id: string; status: string }
  | { kind: "invalid_transition"; id: string; transaction_id: string; from: string; to: string }
  | { kind: "changed"; id: string; transaction_id: string; from: string; to: string };

/** pending → approved | rejected, and approved → rejected (a reversal). Rejected is final. */
export const ALLOWED_STATUS_CHANGES: Readonly<Record<string, readonly string[]>> = {
  pending: ["approved", "rejected"],
  approved: ["rejected"],
  rejected: [],
};

/**
 * Changes a conversion's status, appends the history entry and moves the rollup (only approved
 * conversions are counted there), in one transaction holding the row lock.
 */
export async function changeConversionStatus(
  db: Kysely<Database>,
  p: {
    advertiserId: string;
    conversionId?: string | null;
    transactionId?: string | null;
    to: "pending" | "approved" | "rejected";
    reason?: string | null;
    source: string;
  },
): Promise<StatusChangeResult> {
  return db.transaction().execute(async (tx) => {
    let q = tx
      .selectFrom("conversions")
      .select([
        "id",
        "tenant_id",
        "transaction_id",
        "offer_id",
        "publisher_id",
        "status",
        "amount",
        "payout",
        "revenue_in_rollup",
        "payout_in_rollup",
        "created_at",
      ])
      .where("advertiser_id", "=", p.advertiserId);
    if (p.conversionId) q = q.where("id", "=", p.conversionId);
    if (p.transactionId) q = q.where("transaction_id", "=", p.transactionId);
    const row = await q.forUpdate().executeTakeFirst();
    if (!row) return { kind: "not_found" };
    const base = { id: row.id, transaction_id: row.transaction_id };
    if (row.status === p.to) return { kind: "unchanged", ...base, status: row.status };
    if (!ALLOWED_STATUS_CHANGES[row.status]?.includes(p.to)) {
      return { kind: "invalid_transition", ...base, from: row.status, to: p.to };
    }
    await tx
      .updateTable("conversions")
      .set({ status: p.to, updated_at: sql<Date>`now()` })
      .where("id", "=", row.id)
      .execute();
    await tx
      .insertInto("conversion_status_history")
      .values({
        conversion_id: row.id,
        tenant_id: row.tenant_id,
        from_status: row.status,
        to_status: p.to,
        reason: p.reason ?? null,
        source: p.source,
      })
      .execute();
    const delta = p.to === "approved" ? 1 : row.status === "approved" ? -1 : 0;
    if (delta !== 0 && row.publisher_id) {
      const revenue = row.revenue_in_rollup ? Number(row.amount) * delta : 0;
      const payout = row.payout_in_rollup ? Number(row.payout) * delta : 0;
      await sql`
        INSERT INTO stats_daily AS s (tenant_id, day, offer_id, publisher_id, conversions, revenue, payout)
        VALUES (${row.tenant_id}, (${row.created_at}::timestamptz AT TIME ZONE 'UTC')::date, ${row.offer_id},
          ${row.publisher_id}, ${delta}, ${revenue}, ${payout})
        ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET
          conversions = s.conversions + excluded.conversions,
          revenue = s.revenue + excluded.revenue,
          payout = s.payout + excluded.payout
      `.execute(tx);
    }
    return { kind: "changed", ...base, from: row.status, to: p.to };
  });
}

export interface NewSdkClick {
  click_id: string;
  created_at: number;
  tenant_id: string;
  tracking_code: string;
  offer_id: string;
  publisher_id: string;
  advertiser_id: string;
  verdict: string;
  country: string | null;
  device: string | null;
  os: string | null;
  browser: string | null;
  ip_hash: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  sdk_version: string | null;
  sdk_platform: string | null;
  sdk_meta: unknown;
}

/** An SDK click and its rollup, in one statement; counted like a redirect click of the same verdict. */
export async function insertSdkClick(
  db: Kysely<Database>,
  c: NewSdkClick,
  counted: { valid: boolean; fraud: boolean },
): Promise<void> {
  await sql`
    WITH ins AS (
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        created_at, verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3, sub4, sub5,
        referer, sdk_version, sdk_platform, sdk_meta)
      VALUES (${c.click_id}, ${c.tenant_id}, ${c.tracking_code}, ${c.offer_id}, ${c.publisher_id},
        ${c.advertiser_id}, to_timestamp(${c.created_at}::bigint / 1000.0), ${c.verdict}, 'sdk', ${c.country},
        ${c.device}, ${c.os}, ${c.browser}, ${c.ip_hash}, ${c.sub1}, ${c.sub2}, ${c.sub3}, ${c.sub4},
        ${c.sub5}, NULL, ${c.sdk_version}, ${c.sdk_platform}, ${jsonb(c.sdk_meta)}::jsonb)
      ON CONFLICT (click_id) DO NOTHING
      RETURNING tenant_id, offer_id, publisher_id, created_at
    )
    INSERT INTO stats_daily AS s (tenant_id, day, offer_id, publisher_id, clicks, valid_clicks, fraud_clicks)
    SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, offer_id, publisher_id, 1,
      ${counted.valid ? 1 : 0}, ${counted.fraud ? 1 : 0}
    FROM ins
    ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET
      clicks = s.clicks + excluded.clicks,
      valid_clicks = s.valid_clicks + excluded.valid_clicks,
      fraud_clicks = s.fraud_clicks + excluded.fraud_clicks
  `.execute(db);
}
