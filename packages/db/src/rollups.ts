// The rollup upserts every click and conversion writer embeds in its own statement: stats_q
// (15-minute UTC buckets, every dimension, 007-analytics), the daily tier in the network's time zone
// (stats_day_*, 011-stats-daily) and the live per-minute counters. They are CTEs, not statements,
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

/** The daily tier (011-stats-daily): table → its key dimensions after (tenant_id, day). */
export const DAILY_TABLES = {
  stats_day_country: { keys: ["country"], advertiser: false },
  stats_day_offer: { keys: ["offer_id"], advertiser: true },
  stats_day_publisher: { keys: ["publisher_id"], advertiser: false },
  stats_day_offer_publisher: { keys: ["offer_id", "publisher_id"], advertiser: true },
} as const;
export type DailyTable = keyof typeof DAILY_TABLES;

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

/**
 * The upsert of one daily table from `rollup_day` (rollup rows with their local `day`): verdicts
 * folded into valid/fraud/bot columns, so one click row per key and day. The source may be click
 * rows (one per click) or stats_q rows (already summed): both are summed alike.
 */
function dailyUpsert(
  table: DailyTable,
  source: RawBuilder<unknown> = sql`rollup_day`,
  // Key order (concurrent batches lock shared rows alike); a rebuild holds the table lock instead.
  ordered = true,
): RawBuilder<unknown> {
  const { keys, advertiser } = DAILY_TABLES[table];
  const dims = [...keys, "currency", "payout_currency"];
  const dimCols = sql.join(dims.map((d) => sql.ref(d)));
  const positions = sql.join(dims.map((_, i) => sql.lit(i + 3)));
  const add = sql.join(
    DAILY_MEASURES.map((m) => sql`${sql.ref(m)} = r.${sql.ref(m)} + excluded.${sql.ref(m)}`),
  );
  const inVerdicts = (list: readonly string[]) => sql`verdict = ANY(${sql.val([...list])}::text[])`;
  return sql`
    INSERT INTO ${sql.table(table)} AS r (tenant_id, day, ${dimCols}, ${advertiser ? sql`advertiser_id,` : sql``}
      ${sql.join(DAILY_MEASURES.map((m) => sql.ref(m)))})
    SELECT tenant_id, day, ${sql.join(dims.map((d) => sql`coalesce(${sql.ref(d)}, '')`))},
      ${advertiser ? sql`coalesce(min(advertiser_id), ''),` : sql``}
      sum(clicks), sum(unique_clicks),
      coalesce(sum(clicks) FILTER (WHERE ${inVerdicts(COUNTED_VERDICTS)}), 0),
      coalesce(sum(clicks) FILTER (WHERE ${inVerdicts(FRAUD_VERDICTS)}), 0),
      coalesce(sum(clicks) FILTER (WHERE verdict = 'bot'), 0),
      coalesce(sum(unique_clicks) FILTER (WHERE verdict = 'bot'), 0),
      sum(pending_conversions), sum(approved_conversions), sum(rejected_conversions), sum(revenue), sum(payout)
    FROM ${source} GROUP BY 1, 2, ${positions} ${ordered ? sql`ORDER BY 1, 2, ${positions}` : sql``}
    ON CONFLICT (tenant_id, day, ${dimCols}) DO UPDATE SET ${add}
    RETURNING 1`;
}

/** `rollup_day`: the rollup rows with the local day of their instant in their tenant's zone. */
const ROLLUP_DAY = sql`rollup_day AS (
      SELECT s.*, (s.ts AT TIME ZONE t.timezone)::date AS day FROM rollup_src s JOIN tenants t ON t.id = s.tenant_id)`;

const dailyCtes = () =>
  sql.join(
    (Object.keys(DAILY_TABLES) as DailyTable[]).map(
      (t, i) => sql`${sql.raw(`rollup_d${i}`)} AS (${dailyUpsert(t)})`,
    ),
  );

/**
 * The statements rebuilding the daily tier of one tenant (or every tenant) from stats_q in the
 * tenant's current zone, one INSERT … SELECT … GROUP BY per table over the whole history. Run them
 * after deleting the tenant's daily rows (a time zone change, in the transaction that changes it)
 * or into empty tables (a bulk load).
 */
export function rebuildDailyTier(tenantId?: string): RawBuilder<unknown>[] {
  const source = sql`(
    SELECT s.*, (s.bucket AT TIME ZONE t.timezone)::date AS day FROM stats_q s JOIN tenants t ON t.id = s.tenant_id
    ${tenantId ? sql`WHERE s.tenant_id = ${tenantId}` : sql``}) AS rollup_day`;
  return (Object.keys(DAILY_TABLES) as DailyTable[]).map((t) => dailyUpsert(t, source, false));
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
 * CTEs for a WITH list (`rollup_src`, `rollup_day`, `rollup_q`, `rollup_m`, `rollup_d0`..`rollup_d3`)
 * adding `rows` to the rollup tables: stats_q, the live per-minute counters and the daily tier. `rows` is a SELECT or VALUES yielding ROLLUP_SOURCE_COLUMNS in order; it may read earlier
 * CTEs of the statement (e.g. an INSERT's RETURNING, so only newly written rows are counted).
 *
 * @example
 * sql`WITH ins AS (INSERT ... RETURNING ...), ${rollupCtes(sql`SELECT ... FROM ins`)} SELECT ...`
 */
export function rollupCtes(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`rollup_src (${sql.join(ROLLUP_SOURCE_COLUMNS.map((c) => sql.ref(c)))}) AS (${rows}),
    rollup_q AS (${upsert("stats_q", "15 minutes", DIMS_Q)}),
    rollup_m AS (${LIVE_UPSERT}),
    ${ROLLUP_DAY}, ${dailyCtes()}`;
}

/** A whole statement adding `rows` to the rollups (for a transaction's own step). */
export function addToRollups(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`WITH ${rollupCtes(rows)} SELECT (SELECT count(*) FROM rollup_q) AS q, (SELECT count(*) FROM rollup_d0) AS d`;
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
