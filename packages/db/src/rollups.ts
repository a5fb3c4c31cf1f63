// The rollup upserts every click and conversion writer embeds in its own statement (007-analytics):
// stats_q (15-minute UTC buckets, every dimension) and stats_h (1-hour UTC buckets, offer,
// publisher, country, verdict). They are CTEs, not statements, so a hot path stays one round trip
// and the counters move in the same statement (or transaction) as the rows they count.

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
const DIMS_H = [
  "offer_id",
  "publisher_id",
  "advertiser_id",
  "country",
  "verdict",
  "currency",
  "payout_currency",
] as const;

function upsert(table: "stats_q" | "stats_h", width: string, dims: readonly string[]): RawBuilder<unknown> {
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
 * Four CTEs for a WITH list (`rollup_src`, `rollup_q`, `rollup_h`, `rollup_m`) adding `rows` to the rollup
 * tables (and the live per-minute counters). `rows` is a SELECT or VALUES yielding ROLLUP_SOURCE_COLUMNS in order; it may read earlier
 * CTEs of the statement (e.g. an INSERT's RETURNING, so only newly written rows are counted).
 *
 * @example
 * sql`WITH ins AS (INSERT ... RETURNING ...), ${rollupCtes(sql`SELECT ... FROM ins`)} SELECT ...`
 */
export function rollupCtes(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`rollup_src (${sql.join(ROLLUP_SOURCE_COLUMNS.map((c) => sql.ref(c)))}) AS (${rows}),
    rollup_q AS (${upsert("stats_q", "15 minutes", DIMS_Q)}),
    rollup_h AS (${upsert("stats_h", "1 hour", DIMS_H)}),
    rollup_m AS (${LIVE_UPSERT})`;
}

/** A whole statement adding `rows` to the rollups (for a transaction's own step). */
export function addToRollups(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`WITH ${rollupCtes(rows)} SELECT (SELECT count(*) FROM rollup_q) AS q, (SELECT count(*) FROM rollup_h) AS h`;
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
