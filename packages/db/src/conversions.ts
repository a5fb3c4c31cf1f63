// Conversions, written by the ingestion API, and the offer lookups ingestion starts from. Each write
// is one statement (or, for a status change, one short transaction) that also keeps the rollups in
// step, so a refused or duplicate request changes nothing and a conversion is counted exactly once.

import { type ClickAttribution, type FraudRules, isIpAllowed } from "@afftrack/core";
import { type Insertable, type Kysely, sql } from "kysely";
import { isUniqueViolation } from "./pagination";
import { addToRollups, conversionRollupRows, rollupCtes } from "./rollups";
import type { ConversionAttribution, ConversionsTable, Database } from "./schema";

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
  /** 004: a conversion on a click older than this many days is not attributed. */
  attribution_window_days: number;
  /** 004: conversions of one event type paid per click. */
  conversions_per_click: number;
  /** 010: event types paid, each with its own cap; empty: any, sharing one cap per click. */
  paid_event_types: string[];
  /** 010: the offer's fraud rules as stored (absent keys: DEFAULT_FRAUD_RULES). */
  fraud_rules: Partial<FraudRules>;
}

/** A click as attribution needs it (a `clicks` row, or the edge's Redis copy of a queued one). */
export type IngestClick = ClickAttribution & {
  /**
   * Whether the click's publisher may be credited now: active, and admitted to the click's offer
   * (public, or listed by a private one). Undefined for a queued click: asked separately.
   */
  publisher_eligible?: boolean;
};

interface OfferRow extends Omit<IngestOffer, "payout_amount"> {
  payout_amount: string;
}

const OFFER_COLUMNS = sql`o.id, o.tenant_id, o.advertiser_id, o.status, o.payout_type, o.payout_amount,
  o.currency, o.allowed_countries, o.blocked_countries, o.postback_ip_allowlist,
  o.attribution_window_days, o.conversions_per_click, o.paid_event_types, o.fraud_rules`;

/** Whether publisher p may be credited on offer o: active, and admitted to it if it is private. */
const PUBLISHER_ELIGIBLE = sql`(p.status = 'active' AND (o.visibility = 'public' OR p.id = ANY(o.allowed_publisher_ids)))`;

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
         SELECT k.click_id, k.tenant_id, k.advertiser_id, k.offer_id, k.publisher_id, k.tracking_code,
           k.verdict, k.unverified, k.held AS hold, (extract(epoch FROM k.created_at) * 1000)::bigint AS created_at,
           coalesce((SELECT ${PUBLISHER_ELIGIBLE} FROM publishers p, offers o
             WHERE p.id = k.publisher_id AND o.id = k.offer_id), false) AS publisher_eligible
         FROM clicks k WHERE k.click_id = ${p.clickId}) c) AS click
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

/** Whether a publisher may be credited on an offer now (for a click known only from Redis). */
export async function isPublisherEligible(
  db: Kysely<Database>,
  p: { publisherId: string; offerId: string },
): Promise<boolean> {
  const result = await sql<{ eligible: boolean }>`
    SELECT ${PUBLISHER_ELIGIBLE} AS eligible FROM publishers p, offers o
    WHERE p.id = ${p.publisherId} AND o.id = ${p.offerId}
  `.execute(db);
  return result.rows[0]?.eligible ?? false;
}

/**
 * The offer and the publisher behind a tracking code of that offer (null publisher: not its link),
 * and whether that publisher may be credited (active, admitted to a private offer).
 */
export async function loadClickContext(
  db: Kysely<Database>,
  p: { advertiserId: string; offerId: string; trackingCode: string },
): Promise<{ offer: IngestOffer; publisherId: string | null; publisherEligible: boolean } | null> {
  const result = await sql<OfferRow & { publisher_id: string | null; publisher_eligible: boolean | null }>`
    SELECT ${OFFER_COLUMNS}, l.publisher_id, ${PUBLISHER_ELIGIBLE} AS publisher_eligible
    FROM offers o LEFT JOIN tracking_links l ON l.offer_id = o.id AND l.tracking_code = ${p.trackingCode}
      LEFT JOIN publishers p ON p.id = l.publisher_id
    WHERE o.id = ${p.offerId} AND o.advertiser_id = ${p.advertiserId}
  `.execute(db);
  const row = result.rows[0];
  if (!row) return null;
  const { publisher_id, publisher_eligible, ...offer } = row;
  return { offer: toOffer(offer), publisherId: publisher_id, publisherEligible: publisher_eligible === true };
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
 *
 * A conversion attributed to a click takes one of the click's slots for its event type first
 * (`click_conversion_slots`, at most `conversionsPerClick` transaction ids). The slot is an upsert
 * whose condition reads only the locked row, so concurrent conversions on one click are granted
 * exactly the cap; beyond it the conversion is recorded as `click_cap_reached`, credited to no one.
 */
export async function insertConversion(
  db: Kysely<Database>,
  c: NewConversion,
  opts: {
    conversionsPerClick: number | null;
    /** The cap's key on the click: the event type, or "*" when all event types share one cap. */
    slotKey?: string;
    /** A fraud rule fired on this conversion: recorded as a fraud event in the same statement. */
    fraud?: { kind: string; detail: Record<string, unknown> } | null;
  } = { conversionsPerClick: null },
): Promise<{ id: string; created_at: Date; attribution: ConversionAttribution } | null> {
  // A conversion recorded as rejected can never be paid (rejected is final): it takes no slot.
  const capped =
    c.click_id !== null &&
    c.click_id !== undefined &&
    opts.conversionsPerClick !== null &&
    c.status !== "rejected";
  const eventType = c.event_type ?? "conversion";
  const result = await sql<{ id: string; created_at: Date; attribution: ConversionAttribution }>`
    WITH slot AS (
      INSERT INTO click_conversion_slots AS s (click_id, event_type, tenant_id, transaction_ids)
      SELECT ${c.click_id}, ${opts.slotKey ?? eventType}, ${c.tenant_id}, ARRAY[${c.transaction_id}::text]
      WHERE ${capped} AND NOT EXISTS (SELECT 1 FROM conversions
        WHERE advertiser_id = ${c.advertiser_id} AND transaction_id = ${c.transaction_id})
      ON CONFLICT (click_id, event_type) DO UPDATE SET transaction_ids = s.transaction_ids || excluded.transaction_ids
      WHERE cardinality(s.transaction_ids) < ${opts.conversionsPerClick ?? 0}::int
        AND NOT (${c.transaction_id}::text = ANY(s.transaction_ids))
      RETURNING 1
    ), mirror AS (
      -- The granted transaction is also written under the other kind of key (the event type when
      -- all types share "*", "*" when each type has its own), uncapped: an offer that later switches
      -- how it caps (paid_event_types) finds every conversion already paid on the click.
      INSERT INTO click_conversion_slots AS s (click_id, event_type, tenant_id, transaction_ids)
      SELECT ${c.click_id}, ${(opts.slotKey ?? eventType) === "*" ? eventType : "*"}, ${c.tenant_id},
        ARRAY[${c.transaction_id}::text]
      WHERE EXISTS (SELECT 1 FROM slot)
      ON CONFLICT (click_id, event_type) DO UPDATE SET transaction_ids = s.transaction_ids || excluded.transaction_ids
      WHERE NOT (${c.transaction_id}::text = ANY(s.transaction_ids))
      RETURNING 1
    ), granted AS (
      SELECT (NOT ${capped} OR EXISTS (SELECT 1 FROM slot)) AS ok
    ), ins AS (
      INSERT INTO conversions (id, tenant_id, advertiser_id, offer_id, transaction_id, event_type, click_id,
        publisher_id, tracking_code, click_verdict, reported_click_id, attribution, status, amount,
        currency, payout, payout_currency, revenue_in_rollup, payout_in_rollup, source, api_key_id,
        user_id, device_info, custom_params, metadata, sdk_version, sdk_platform)
      SELECT ${c.id}, ${c.tenant_id}, ${c.advertiser_id}, ${c.offer_id}, ${c.transaction_id}, ${eventType},
        CASE WHEN g.ok THEN ${c.click_id} END, CASE WHEN g.ok THEN ${c.publisher_id} END,
        CASE WHEN g.ok THEN ${c.tracking_code} END, ${c.click_verdict}, ${c.reported_click_id},
        CASE WHEN g.ok THEN ${c.attribution} ELSE 'click_cap_reached' END, ${c.status}, ${c.amount},
        ${c.currency}, CASE WHEN g.ok THEN ${c.payout}::numeric ELSE 0 END, ${c.payout_currency},
        ${c.revenue_in_rollup}, ${c.payout_in_rollup}, ${c.source}, ${c.api_key_id}, ${c.user_id},
        ${jsonb(c.device_info)}::jsonb, ${jsonb(c.custom_params)}::jsonb, ${jsonb(c.metadata)}::jsonb,
        ${c.sdk_version}, ${c.sdk_platform}
      FROM granted g
      RETURNING id, tenant_id, advertiser_id, offer_id, publisher_id, click_id, status, amount, currency, payout,
        payout_currency, created_at, attribution
    ), hist AS (
      INSERT INTO conversion_status_history (conversion_id, tenant_id, from_status, to_status, source)
      SELECT id, tenant_id, NULL, status, ${c.source} FROM ins
      RETURNING 1
    ), fraud AS (
      INSERT INTO fraud_events (tenant_id, kind, click_id, tracking_code, offer_id, publisher_id, detail, created_at)
      SELECT ins.tenant_id, ${opts.fraud?.kind ?? null}::text, ${c.click_id}, ${c.tracking_code}, ins.offer_id,
        ${c.publisher_id}, ${jsonb({ ...opts.fraud?.detail, conversion_id: c.id, transaction_id: c.transaction_id })}::jsonb,
        ins.created_at
      FROM ins WHERE ${opts.fraud?.kind ?? null}::text IS NOT NULL
      ON CONFLICT (click_id, kind) WHERE click_id IS NOT NULL DO NOTHING
      RETURNING 1
    ), ${rollupCtes(conversionRollupRows(sql`ins`))}
    SELECT id, created_at, attribution, (SELECT count(*) FROM hist) AS history,
      (SELECT count(*) FROM fraud) AS fraud, (SELECT count(*) FROM mirror) AS mirrored,
      (SELECT count(*) FROM rollup_q) AS rollups
    FROM ins
  `
    .execute(db)
    .catch((err: unknown) => {
      // A duplicate transaction fails the whole statement, so a slot it took is rolled back too
      // (with ON CONFLICT DO NOTHING a concurrent duplicate on another click kept its slot).
      if (isUniqueViolation(err)) return { rows: [] };
      throw err;
    });
  return result.rows[0] ?? null;
}

/** A conversion insertConversions() may write: it takes no slot of a click's cap, fires no fraud rule. */
export type UncappedConversion = NewConversion & { click_id: null };

/** The columns insertConversions() reads from its JSON rows, with their SQL types. */
const BATCH_COLUMNS =
  sql.raw(`id text, tenant_id text, advertiser_id text, offer_id text, transaction_id text,
  event_type text, publisher_id text, tracking_code text, click_verdict text, reported_click_id text,
  attribution text, status text, amount numeric, currency text, payout numeric, payout_currency text,
  revenue_in_rollup boolean, payout_in_rollup boolean, source text, api_key_id text, user_id text,
  device_info jsonb, custom_params jsonb, metadata jsonb, sdk_version text, sdk_platform text, ord int`);

/** The conversion with this id as written, if it was: a batch that answered too late may have. */
export async function writtenConversion(
  db: Kysely<Database>,
  id: string,
): Promise<{ id: string; created_at: Date; attribution: ConversionAttribution } | null> {
  const row = await db
    .selectFrom("conversions")
    .select(["id", "created_at", "attribution"])
    .where("id", "=", id)
    .executeTakeFirst();
  return row
    ? { id: row.id, created_at: row.created_at, attribution: row.attribution as ConversionAttribution }
    : null;
}

/**
 * Inserts many unattributed conversions (no click, so no slot and no fraud event) with their first
 * history entries and rollups in ONE statement: the rollup rows they share are upserted once per
 * key, not once per conversion. Answers, per row in order, the inserted row or null when its
 * (advertiser_id, transaction_id) already exists, in Postgres or earlier in the same batch (the
 * earlier row wins). Money goes in as JSON numbers, which Postgres reads as exact numerics.
 *
 * Throws when Postgres refuses any row (the statement writes nothing then): callers retry each row
 * alone with insertConversion, so one bad row never fails its neighbours.
 */
export async function insertConversions(
  db: Kysely<Database>,
  rows: readonly UncappedConversion[],
): Promise<Array<{ id: string; created_at: Date; attribution: ConversionAttribution } | null>> {
  if (rows.length === 0) return [];
  const json = JSON.stringify(
    rows.map((c, ord) => ({
      ...c,
      event_type: c.event_type ?? "conversion",
      amount: c.amount,
      payout: c.payout,
      device_info: c.device_info ?? null,
      custom_params: c.custom_params ?? null,
      metadata: c.metadata ?? null,
      ord,
    })),
  );
  const result = await sql<{ id: string; created_at: Date; attribution: ConversionAttribution }>`
    WITH src AS (
      SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS r(${BATCH_COLUMNS})
    ), ins AS (
      INSERT INTO conversions (id, tenant_id, advertiser_id, offer_id, transaction_id, event_type, click_id,
        publisher_id, tracking_code, click_verdict, reported_click_id, attribution, status, amount,
        currency, payout, payout_currency, revenue_in_rollup, payout_in_rollup, source, api_key_id,
        user_id, device_info, custom_params, metadata, sdk_version, sdk_platform)
      SELECT id, tenant_id, advertiser_id, offer_id, transaction_id, event_type, NULL, publisher_id,
        tracking_code, click_verdict, reported_click_id, attribution, status, amount, currency, payout,
        payout_currency, revenue_in_rollup, payout_in_rollup, source, api_key_id, user_id, device_info,
        custom_params, metadata, sdk_version, sdk_platform
      -- Key order (as the rollup upserts): concurrent statements take the unique index's locks in
      -- the same order and cannot deadlock; among duplicates the earliest (ord) still wins.
      FROM src ORDER BY advertiser_id, transaction_id, ord
      ON CONFLICT (advertiser_id, transaction_id) DO NOTHING
      RETURNING id, tenant_id, advertiser_id, offer_id, publisher_id, click_id, status, amount, currency, payout,
        payout_currency, created_at, attribution
    ), hist AS (
      INSERT INTO conversion_status_history (conversion_id, tenant_id, from_status, to_status, source)
      SELECT ins.id, ins.tenant_id, NULL, ins.status, src.source FROM ins JOIN src ON src.id = ins.id
      RETURNING 1
    ), ${rollupCtes(conversionRollupRows(sql`ins`))}
    SELECT id, created_at, attribution, (SELECT count(*) FROM hist) AS history,
      (SELECT count(*) FROM rollup_q) AS rollups
    FROM ins
  `.execute(db);
  const byId = new Map(result.rows.map((r) => [r.id, r]));
  return rows.map((c) => byId.get(c.id) ?? null);
}

type Status = ConversionsTable["status"];

export type StatusChangeResult =
  | { kind: "not_found" }
  | { kind: "ip_not_allowed"; id: string }
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
    /** An advertiser's own conversions (API key, advertiser user); with only `tenantId`, any of the network's (its admin). */
    advertiserId?: string | null;
    tenantId?: string;
    conversionId?: string | null;
    transactionId?: string | null;
    to: Status;
    reason?: string | null;
    source: string;
    /** The caller's IP: it must be inside the conversion's offer's postback allowlist, if it has one. */
    clientIp: string | null;
    /** A signed-in dashboard user is no server: the offer's postback allowlist does not apply. */
    skipIpAllowlist?: boolean;
  },
): Promise<StatusChangeResult> {
  if (!p.advertiserId && !p.tenantId)
    throw new Error("changeConversionStatus needs an advertiser or a network");
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
        "click_id",
        "event_type",
        (eb) =>
          eb
            .selectFrom("offers")
            .select("offers.postback_ip_allowlist")
            .whereRef("offers.id", "=", "conversions.offer_id")
            .as("offer_allowlist"),
      ])
      .$if(Boolean(p.advertiserId), (qb) => qb.where("advertiser_id", "=", p.advertiserId as string))
      .$if(Boolean(p.tenantId), (qb) => qb.where("tenant_id", "=", p.tenantId as string));
    if (p.conversionId) q = q.where("id", "=", p.conversionId);
    if (p.transactionId) q = q.where("transaction_id", "=", p.transactionId);
    const row = await q.forUpdate().executeTakeFirst();
    if (!row) return { kind: "not_found" };
    const allowlist = row.offer_allowlist ?? [];
    if (!p.skipIpAllowlist && allowlist.length > 0 && !(p.clientIp && isIpAllowed(p.clientIp, allowlist))) {
      return { kind: "ip_not_allowed", id: row.id };
    }
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
    if (p.to === "rejected" && row.click_id) {
      // A rejected conversion will never be paid: its slot of the click's cap is free again.
      await tx
        .updateTable("click_conversion_slots")
        .set({ transaction_ids: sql<string[]>`array_remove(transaction_ids, ${row.transaction_id}::text)` })
        .where("click_id", "=", row.click_id)
        .execute();
    }
    // Take the conversion out of its old status's counters and into the new one's, in this
    // transaction: the same dimensions (its click's) and bucket (its created_at) both times.
    await addToRollups(sql`
      ${conversionRollupRows(sql`(SELECT * FROM conversions WHERE id = ${row.id})`)}
      UNION ALL
      ${conversionRollupRows(
        sql`(SELECT id, tenant_id, advertiser_id, offer_id, publisher_id, click_id, ${row.status}::text AS status,
          amount, currency, payout, payout_currency, created_at FROM conversions WHERE id = ${row.id})`,
        sql`-1`,
      )}`).execute(tx);
    return { kind: "changed", ...base, from: row.status, to: p.to };
  });
}
