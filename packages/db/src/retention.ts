// Retention of raw clicks (007-analytics): clicks is partitioned by UTC month, so old clicks go by
// dropping whole partitions (instant, no vacuum), and new months get their partition ahead of
// time. Rollups (stats_q, stats_h) are separate tables and stay: the numbers outlive the raw rows.
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
}

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
  const dropped = await dropClickPartitionsBefore(db, addMonths(monthStart(now), -opts.retentionMonths));
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
  };
}
