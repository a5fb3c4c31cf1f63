// The rollup upserts every click and conversion writer embeds in its own statement: stats_q
// (15-minute UTC buckets, every dimension, 007-analytics), the daily tier in the network's time zone
// (stats_day, 013-stats-day), the 15-minute network totals (stats_total, 015-stats-total) and
// the live per-minute counters. They are CTEs, not statements,
// so a hot path stays one round trip and the counters move in the same statement (or transaction)
// as the rows they count. Each is grouped per batch: one upsert per key, in key order.

import { COUNTED_VERDICTS, FRAUD_VERDICTS } from "@afftrack/core";
import { type RawBuilder, sql } from "kysely";

/**
 * The columns the `rows` given to `rollupCtes` yield, in this order. Dimensions may be null (stored
 * as ''); `ts` is the event's timestamptz; counters may be negative (a status change moves them).
 */
export const ROLLUP_SOURCE_COLUMNS = [
  "tenant_id",
  "ts",
  "offer_id",
  "publisher_id",
  "advertiser_id",
  "country",
  "device",
  "os",
  "browser",
  "sub1",
  "verdict",
  "currency",
  "payout_currency",
  "clicks",
  "unique_clicks",
  "pending_conversions",
  "approved_conversions",
  "rejected_conversions",
  "revenue",
  "payout",
] as const;

const COUNTERS = [
  "clicks",
  "unique_clicks",
  "pending_conversions",
  "approved_conversions",
  "rejected_conversions",
  "revenue",
  "payout",
] as const;

const DIMS_Q = [
  "offer_id",
  "publisher_id",
  "advertiser_id",
  "country",
  "device",
  "os",
  "browser",
  "sub1",
  "verdict",
  "currency",
  "payout_currency",
] as const;
function upsert(table: "stats_q", width: string, dims: readonly string[]): RawBuilder<unknown> {
  const dimCols = sql.join(dims.map((d) => sql.ref(d)));
  const dimVals = sql.join(dims.map((d) => sql`coalesce(${sql.ref(d)}, '')`));
  const sums = sql.join(COUNTERS.map((m) => sql`sum(${sql.ref(m)})`));
  const add = sql.join(COUNTERS.map((m) => sql`${sql.ref(m)} = r.${sql.ref(m)} + excluded.${sql.ref(m)}`));
  // Grouped (one upsert per row key, as ON CONFLICT requires) and ordered by key, so concurrent
  // batches lock shared rows in the same order and cannot deadlock.
  return sql`
    INSERT INTO ${sql.table(table)} AS r (tenant_id, bucket, ${dimCols}, ${sql.join(COUNTERS.map((m) => sql.ref(m)))})
    SELECT tenant_id, date_bin(${sql.lit(width)}::interval, ts, timestamptz 'epoch'), ${dimVals}, ${sums}
    FROM rollup_src GROUP BY 1, 2, ${sql.join(dims.map((_, i) => sql.lit(i + 3)))}
    ORDER BY 1, 2, ${sql.join(dims.map((_, i) => sql.lit(i + 3)))}
    ON CONFLICT (tenant_id, bucket, ${dimCols}) DO UPDATE SET ${add}
    RETURNING 1`;
}

/**
 * The daily tier (stats_day, 013-stats-day): one table, `dim` says which key columns a row has
 * (the others are ''). Queries name a dimension; writers fill all four with one upsert.
 */
export const DAILY_DIMS = { country: 1, offer: 2, publisher: 3, offer_publisher: 4 } as const;
export type DailyDim = keyof typeof DAILY_DIMS;

const DAILY_MEASURES = [
  "clicks",
  "unique_clicks",
  "valid_clicks",
  "fraud_clicks",
  "bot_clicks",
  "bot_unique_clicks",
  "pending_conversions",
  "approved_conversions",
  "rejected_conversions",
  "revenue",
  "payout",
] as const;

const inVerdicts = (list: readonly string[]) => sql`verdict = ANY(${sql.val([...list])}::text[])`;

/** DAILY_MEASURES summed from rollup rows, verdicts folded into valid/fraud/bot columns. */
const FOLDED_SUMS = sql`sum(clicks), sum(unique_clicks),
      coalesce(sum(clicks) FILTER (WHERE ${inVerdicts(COUNTED_VERDICTS)}), 0),
      coalesce(sum(clicks) FILTER (WHERE ${inVerdicts(FRAUD_VERDICTS)}), 0),
      coalesce(sum(clicks) FILTER (WHERE verdict = 'bot'), 0),
      coalesce(sum(unique_clicks) FILTER (WHERE verdict = 'bot'), 0),
      sum(pending_conversions), sum(approved_conversions), sum(rejected_conversions), sum(revenue), sum(payout)`;

/**
 * The network totals per 15-minute UTC bucket and currency pair (stats_total, 015-stats-total),
 * verdicts folded like the daily tier, from `source` (rollup rows with `ts`, or stats_q rows with
 * their `bucket` as `ts`).
 */
function totalUpsert(source: RawBuilder<unknown> = sql`rollup_src`, ordered = true): RawBuilder<unknown> {
  const add = sql.join(
    DAILY_MEASURES.map((m) => sql`${sql.ref(m)} = r.${sql.ref(m)} + excluded.${sql.ref(m)}`),
  );
  return sql`
    INSERT INTO stats_total AS r (tenant_id, bucket, currency, payout_currency,
      ${sql.join(DAILY_MEASURES.map((m) => sql.ref(m)))})
    SELECT tenant_id, date_bin('15 minutes', ts, timestamptz 'epoch'), coalesce(currency, ''),
      coalesce(payout_currency, ''), ${FOLDED_SUMS}
    FROM ${source} GROUP BY 1, 2, 3, 4 ${ordered ? sql`ORDER BY 1, 2, 3, 4` : sql``}
    ON CONFLICT (tenant_id, bucket, currency, payout_currency) DO UPDATE SET ${add}
    RETURNING 1`;
}

/**
 * stats_total rebuilt from stats_q (into an empty table, or after deleting the tenant's rows): one
 * INSERT … SELECT … GROUP BY, optionally over buckets in [from, to) (a bulk load in slices).
 */
export function rebuildTotals(tenantId?: string, buckets?: { from: Date; to: Date }): RawBuilder<unknown> {
  const where = [
    ...(tenantId ? [sql`s.tenant_id = ${tenantId}`] : []),
    ...(buckets
      ? [
          sql`s.bucket >= ${buckets.from.toISOString()}::timestamptz`,
          sql`s.bucket < ${buckets.to.toISOString()}::timestamptz`,
        ]
      : []),
  ];
  return totalUpsert(
    sql`(SELECT s.*, s.bucket AS ts FROM stats_q s ${where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}) AS rollup_src`,
    false,
  );
}

/**
 * The upsert of the daily tier from `source` (rollup rows with their local `day`, dimensions already
 * coalesced to ''): verdicts folded into valid/fraud/bot columns, so one click row per key and day,
 * and the four dimensions in one GROUPING SETS pass (GROUPING() of (country, offer_id,
 * publisher_id) names the set: 3 → country, 5 → offer, 6 → publisher, 4 → offer × publisher). The
 * source may be click rows (one per click) or stats_q rows (already summed): both are summed alike.
 */
function dailyUpsert(
  source: RawBuilder<unknown> = sql`rollup_day`,
  // Key order (concurrent batches lock shared rows alike); a rebuild holds the table lock instead.
  ordered = true,
): RawBuilder<unknown> {
  const add = sql.join(
    DAILY_MEASURES.map((m) => sql`${sql.ref(m)} = r.${sql.ref(m)} + excluded.${sql.ref(m)}`),
  );
  return sql`
    INSERT INTO stats_day AS r (tenant_id, dim, day, offer_id, publisher_id, country, currency, payout_currency,
      advertiser_id, ${sql.join(DAILY_MEASURES.map((m) => sql.ref(m)))})
    SELECT tenant_id,
      (CASE GROUPING(country, offer_id, publisher_id) WHEN 3 THEN 1 WHEN 5 THEN 2 WHEN 6 THEN 3 ELSE 4 END)::smallint,
      day, coalesce(offer_id, ''), coalesce(publisher_id, ''), coalesce(country, ''), currency, payout_currency,
      CASE WHEN GROUPING(offer_id) = 0 THEN coalesce(min(advertiser_id), '') ELSE '' END, ${FOLDED_SUMS}
    FROM ${source}
    GROUP BY tenant_id, day, currency, payout_currency,
      GROUPING SETS ((country), (offer_id), (publisher_id), (offer_id, publisher_id))
    ${ordered ? sql`ORDER BY 1, 2, 3, 4, 5, 6, 7, 8` : sql``}
    ON CONFLICT (tenant_id, dim, day, offer_id, publisher_id, country, currency, payout_currency) DO UPDATE SET ${add}
    RETURNING 1`;
}

/** `rollup_day`: the rollup rows (dimensions as stored) with the local day of their instant in their tenant's zone. */
const ROLLUP_DAY = sql`rollup_day AS (
      SELECT s.tenant_id, coalesce(s.offer_id, '') AS offer_id, coalesce(s.publisher_id, '') AS publisher_id,
        s.advertiser_id, coalesce(s.country, '') AS country, s.verdict, coalesce(s.currency, '') AS currency,
        coalesce(s.payout_currency, '') AS payout_currency, ${sql.join(COUNTERS.map((m) => sql.ref(`s.${m}`)))},
        (s.ts AT TIME ZONE t.timezone)::date AS day
      FROM rollup_src s JOIN tenants t ON t.id = s.tenant_id)`;

/**
 * The statement rebuilding the daily tier of one tenant (or every tenant) from stats_q in the
 * tenant's current zone: one INSERT … SELECT … GROUP BY GROUPING SETS over the history (or over
 * stats_q buckets in [from, to), whole local days, for a bulk load in slices). Run it after
 * deleting the tenant's daily rows (a time zone change, in the transaction that changes it) or into
 * an empty table (a bulk load).
 */
export function rebuildDailyTier(tenantId?: string, buckets?: { from: Date; to: Date }): RawBuilder<unknown> {
  const where = [
    ...(tenantId ? [sql`s.tenant_id = ${tenantId}`] : []),
    ...(buckets
      ? [
          sql`s.bucket >= ${buckets.from.toISOString()}::timestamptz`,
          sql`s.bucket < ${buckets.to.toISOString()}::timestamptz`,
        ]
      : []),
  ];
  const source = sql`(
    SELECT s.*, (s.bucket AT TIME ZONE t.timezone)::date AS day FROM stats_q s JOIN tenants t ON t.id = s.tenant_id
    ${where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}) AS rollup_day`;
  return dailyUpsert(source, false);
}

/** Per-minute live counters (stats_live): clicks by verdict class, conversions of any status. */
const LIVE_UPSERT = sql`
    INSERT INTO stats_live AS r (tenant_id, minute, advertiser_id, publisher_id, clicks, valid_clicks, fraud_clicks,
      conversions)
    SELECT tenant_id, date_trunc('minute', ts), coalesce(advertiser_id, ''), coalesce(publisher_id, ''), sum(clicks),
      coalesce(sum(clicks) FILTER (WHERE verdict = ANY(${sql.val([...COUNTED_VERDICTS])}::text[])), 0),
      coalesce(sum(clicks) FILTER (WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[])), 0),
      sum(pending_conversions + approved_conversions + rejected_conversions)
    FROM rollup_src GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (tenant_id, minute, advertiser_id, publisher_id) DO UPDATE SET
      clicks = r.clicks + excluded.clicks,
      valid_clicks = r.valid_clicks + excluded.valid_clicks,
      fraud_clicks = r.fraud_clicks + excluded.fraud_clicks,
      conversions = r.conversions + excluded.conversions
    RETURNING 1`;

/**
 * CTEs for a WITH list (`rollup_src`, `rollup_day`, `rollup_q`, `rollup_m`, `rollup_t`, `rollup_d`)
 * adding `rows` to the rollup tables: stats_q, the live per-minute counters, the 15-minute network
 * totals and the daily tier. `rows` is a SELECT or VALUES yielding ROLLUP_SOURCE_COLUMNS in order; it may read earlier
 * CTEs of the statement (e.g. an INSERT's RETURNING, so only newly written rows are counted).
 *
 * @example
 * sql`WITH ins AS (INSERT ... RETURNING ...), ${rollupCtes(sql`SELECT ... FROM ins`)} SELECT ...`
 */
export function rollupCtes(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`rollup_src (${sql.join(ROLLUP_SOURCE_COLUMNS.map((c) => sql.ref(c)))}) AS (${rows}),
    rollup_q AS (${upsert("stats_q", "15 minutes", DIMS_Q)}),
    rollup_m AS (${LIVE_UPSERT}),
    rollup_t AS (${totalUpsert()}),
    ${ROLLUP_DAY}, rollup_d AS (${dailyUpsert()})`;
}

/** A whole statement adding `rows` to the rollups (for a transaction's own step). */
export function addToRollups(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`WITH ${rollupCtes(rows)} SELECT (SELECT count(*) FROM rollup_q) AS q, (SELECT count(*) FROM rollup_d) AS d`;
}

/**
 * The rollup source rows of conversions: `conv` is a relation with the conversions table's columns
 * (`id`, `tenant_id`, `advertiser_id`, `offer_id`, `publisher_id`, `click_id`, `status`, `amount`,
 * `currency`, `payout`, `payout_currency`, `created_at`); dimensions come from the attributed click,
 * counters are multiplied by `sign` (+1 to add, -1 to take a previous status back out).
 */
export function conversionRollupRows(conv: RawBuilder<unknown>, sign: RawBuilder<unknown> = sql`1`) {
  return sql`
    SELECT cv.tenant_id, cv.created_at, cv.offer_id, cv.publisher_id, cv.advertiser_id, k.country, k.device,
      k.os, k.browser, k.sub1, '', trim(cv.currency), trim(cv.payout_currency), 0, 0,
      (${sign}) * (cv.status = 'pending')::int, (${sign}) * (cv.status = 'approved')::int,
      (${sign}) * (cv.status = 'rejected')::int,
      CASE WHEN cv.status = 'approved' THEN (${sign}) * cv.amount ELSE 0 END,
      CASE WHEN cv.status = 'approved' THEN (${sign}) * cv.payout ELSE 0 END
    FROM ${conv} cv LEFT JOIN clicks k ON k.click_id = cv.click_id AND k.tenant_id = cv.tenant_id`;
}

/**
 * A conversion can be recorded before its click is written (attribution reads the edge's click
 * record while the click still waits in the queue): it is then counted without the click's
 * dimensions (country, device, os, browser, sub1 = ''). When the click lands, its statement moves
 * those counters to the click's dimensions: minus at '', plus at the click's (same bucket, offer,
 * publisher, currencies, status), so later status changes (which read the click) take back exactly
 * what was added. `ins` is the relation of newly inserted clicks (an INSERT's RETURNING: a
 * redelivered click moves nothing). Only conversions committed before the click statement's
 * snapshot are seen; one committing in the same instant as its click's batch keeps '' (rare; the
 * totals stay right either way).
 */
export function lateConversionMoves(ins: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT cv.tenant_id, cv.created_at, cv.offer_id, cv.publisher_id, cv.advertiser_id, m.country, m.device, m.os,
      m.browser, m.sub1, '', trim(cv.currency), trim(cv.payout_currency), 0, 0,
      m.sign * (cv.status = 'pending')::int, m.sign * (cv.status = 'approved')::int,
      m.sign * (cv.status = 'rejected')::int,
      CASE WHEN cv.status = 'approved' THEN m.sign * cv.amount ELSE 0 END,
      CASE WHEN cv.status = 'approved' THEN m.sign * cv.payout ELSE 0 END
    FROM ${ins} i
    JOIN conversions cv ON cv.click_id = i.click_id AND cv.tenant_id = i.tenant_id
    CROSS JOIN LATERAL (VALUES (-1, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text),
      (1, i.country, i.device, i.os, i.browser, i.sub1)) AS m(sign, country, device, os, browser, sub1)`;
}
