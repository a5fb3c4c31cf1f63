// Retention of raw clicks (007-analytics): clicks is partitioned by UTC month, so old clicks go by
// dropping whole partitions (instant, no vacuum), and new months get their partition ahead of
// time. Rollups (stats_q, stats_day) are separate tables and stay: the numbers outlive the raw rows.
// Also purges the short-lived helper rows: unique-click keys and live per-minute counters.

import { type Kysely, sql } from "kysely";
import type { Database } from "./schema";

const PARTITION = /^clicks_(\d{4})_(\d{2})$/;

function monthStart(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

function addMonths(d: Date, n: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

function partitionName(month: Date): string {
  return `clicks_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The monthly partitions of clicks, oldest first. */
export async function listClickPartitions(db: Kysely<Database>): Promise<{ name: string; month: Date }[]> {
  const result = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = 'clicks' ORDER BY c.relname`.execute(db);
  return result.rows.flatMap((r) => {
    const m = PARTITION.exec(r.name);
    return m ? [{ name: r.name, month: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) }] : [];
  });
}

/**
 * Creates the partition of `month` if it is missing, moving any clicks of that month out of the
 * DEFAULT partition first (attaching would fail otherwise), in one transaction.
 */
export async function ensureClickPartition(db: Kysely<Database>, month: Date): Promise<boolean> {
  const start = monthStart(month);
  const end = addMonths(start, 1);
  const name = partitionName(start);
  return db.transaction().execute(async (tx) => {
    const exists = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_class WHERE relname = ${name}`.execute(tx);
    if ((exists.rows[0]?.n ?? 0) > 0) return false;
    await sql`CREATE TABLE ${sql.table(name)} (LIKE clicks INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`.execute(
      tx,
    );
    await sql`
      WITH moved AS (
        DELETE FROM clicks_default WHERE created_at >= ${start.toISOString()}::timestamptz
          AND created_at < ${end.toISOString()}::timestamptz RETURNING *)
      INSERT INTO ${sql.table(name)} SELECT * FROM moved`.execute(tx);
    await sql`ALTER TABLE clicks ATTACH PARTITION ${sql.table(name)}
      FOR VALUES FROM (${sql.lit(start.toISOString())}) TO (${sql.lit(end.toISOString())})`.execute(tx);
    return true;
  });
}

/**
 * Drops every monthly partition that ends on or before `cutoff` (a month start): their clicks and
 * only them. Returns the dropped partitions' names.
 */
export async function dropClickPartitionsBefore(db: Kysely<Database>, cutoff: Date): Promise<string[]> {
  const dropped: string[] = [];
  for (const p of await listClickPartitions(db)) {
    if (addMonths(p.month, 1).getTime() <= monthStart(cutoff).getTime()) {
      await sql`DROP TABLE ${sql.table(p.name)}`.execute(db);
      dropped.push(p.name);
    }
  }
  return dropped;
}

export interface RetentionResult {
  created: string[];
  dropped: string[];
  purged_unique_keys: number;
  purged_live_rows: number;
  purged_conversion_slots: number;
}

const DAY_MS = 86_400_000;

/**
 * The periodic job: partitions for this month and `monthsAhead` more, clicks older than
 * `retentionMonths` whole months dropped, unique-click keys older than 3 days and live counters
 * older than 2 hours deleted. Safe to run any number of times.
 */
export async function runClickRetention(
  db: Kysely<Database>,
  opts: { retentionMonths: number; monthsAhead?: number; now?: Date },
): Promise<RetentionResult> {
  const now = opts.now ?? new Date();
  const created: string[] = [];
  for (let i = 0; i <= (opts.monthsAhead ?? 3); i++) {
    const month = addMonths(monthStart(now), i);
    if (await ensureClickPartition(db, month)) created.push(partitionName(month));
  }
  // Attribution reads the click: never drop clicks an offer may still credit a conversion to.
  const longest = await sql<{
    days: number | null;
  }>`SELECT max(attribution_window_days) AS days FROM offers`.execute(db);
  const windowDays = Number(longest.rows[0]?.days ?? 0);
  const cutoff = addMonths(monthStart(now), -opts.retentionMonths);
  if (cutoff.getTime() > now.getTime() - windowDays * DAY_MS) {
    throw new Error(
      `a retention of ${opts.retentionMonths} months would drop clicks still inside an offer's ${windowDays}-day attribution window; keep at least ${Math.ceil(windowDays / 28) + 1} months`,
    );
  }
  const dropped = await dropClickPartitionsBefore(db, cutoff);
  // Per-click conversion slots of clicks older than every attribution window can never be used
  // again (click ids start with their time in base 36, so they sort by time).
  const oldestUseful = now.getTime() - (windowDays + 1) * DAY_MS;
  const slots = await sql`DELETE FROM click_conversion_slots
    WHERE click_id COLLATE "C" < ${`clk_${oldestUseful.toString(36).padStart(9, "0")}`}`.execute(db);
  const uniques =
    await sql`DELETE FROM click_uniques WHERE day < (${now.toISOString()}::timestamptz AT TIME ZONE 'UTC')::date - 3`.execute(
      db,
    );
  const live =
    await sql`DELETE FROM stats_live WHERE minute < ${now.toISOString()}::timestamptz - interval '2 hours'`.execute(
      db,
    );
  return {
    created,
    dropped,
    purged_unique_keys: Number(uniques.numAffectedRows ?? 0),
    purged_live_rows: Number(live.numAffectedRows ?? 0),
    purged_conversion_slots: Number(slots.numAffectedRows ?? 0),
  };
}
