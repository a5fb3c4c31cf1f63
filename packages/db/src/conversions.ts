// Conversions, written by the ingestion API, and the offer lookups ingestion starts from. Each write
// is one statement (or, for a status change, one short transaction) that also keeps stats_daily in
// step, so a refused or duplicate request changes nothing and a conversion is counted exactly once.

import type { ClickAttribution } from "@afftrack/core";
import { type Insertable, type Kysely, sql } from "kysely";
import { addToRollups, rollupDay } from "./rollups";
import type { ConversionsTable, Database } from "./schema";

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

type JsonColumns = "device_info" | "custom_params" | "metadata";

/** A conversion row as the ingestion service builds it; the JSON columns take any value. */
export type NewConversion = Omit<Insertable<ConversionsTable>, "created_at" | "updated_at" | JsonColumns> &
  Record<JsonColumns, unknown>;

/** A JSON column's parameter: the value as JSON text, or null. */
export const jsonb = (value: unknown) =>
  value === null || value === undefined ? null : JSON.stringify(value);

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
      ${addToRollups(
        "conversions",
        sql`SELECT tenant_id, ${rollupDay(sql`created_at`)}, offer_id, publisher_id, 1,
          CASE WHEN revenue_in_rollup THEN amount ELSE 0 END, CASE WHEN payout_in_rollup THEN payout ELSE 0 END
        FROM ins WHERE publisher_id IS NOT NULL AND status = 'approved'`,
      )}
      RETURNING 1
    )
    SELECT id, created_at, (SELECT count(*) FROM hist) AS history, (SELECT count(*) FROM stats) AS rollups
    FROM ins
  `.execute(db);
  return result.rows[0] ?? null;
}

type Status = ConversionsTable["status"];

export type StatusChangeResult =
  | { kind: "not_found" }
  | { kind: "unchanged"; id: string; transaction_id: string; status: Status }
  | { kind: "invalid_transition"; id: string; transaction_id: string; from: Status; to: Status }
  | { kind: "changed"; id: string; transaction_id: string; from: Status; to: Status };

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
    to: Status;
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
      await addToRollups(
        "conversions",
        sql`VALUES (${row.tenant_id}, ${rollupDay(sql`${row.created_at}::timestamptz`)}, ${row.offer_id},
          ${row.publisher_id}, ${delta}, ${revenue}, ${payout})`,
      ).execute(tx);
    }
    return { kind: "changed", ...base, from: row.status, to: p.to };
  });
}
