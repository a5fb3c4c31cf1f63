// bench/stats: dashboard queries over the rollups at scale, as SQL and end to end through
// GET /api/stats, the clicks consumer's ingest rate with and without rollups (a ratio, same run),
// and the peak memory of a streamed CSV export.
//
// Data: one network (time zone America/New_York) with 20 advertisers, OFFERS offers and PUBLISHERS
// publishers, LINKS tracking links and CLICKS clicks over the last 90 days drawn from a skewed
// traffic model (see TRAFFIC below: Zipf-like links, countries and sub1, realistic devices/OS/
// browsers, 85 % valid), and CONVERSIONS conversions on every (CLICKS / CONVERSIONS)-th click (70 %
// approved, 20 % pending, 10 % rejected; USD and EUR).
// Loaded with INSERT … SELECT generate_series straight into the partitioned clicks and conversions
// tables (no API, no writer statement; the clicks' indexes are built once afterwards), then every
// rollup tier is built set-based: stats_q one UTC day per statement (two at a time), its key built
// once afterwards, the network totals and the daily tier from stats_q (the latter in slices of local days), stats_live from the last
// two hours, click_uniques for the days retention keeps. Heavy statements run with a large
// work_mem/maintenance_work_mem for their transaction. A SAMPLE network (Asia/Kathmandu) is loaded
// the same way, built set-based with the rest, then rebuilt through the writers' own statements
// (backfillClickRollups, conversionRollupRows): both must be equal.
//
// LOAD_ONLY=1 stops after the load; KEEP_DB=<file> keeps the database and writes its URL there;
// STATS_BENCH_DB=<url> times a database loaded earlier (load under a shared lock, time under an
// exclusive one). PARTS=queries,ingest,export picks what to time.
//   pnpm bench:stats            (CLICKS=10000000 CONVERSIONS=200000 RUNS=30 INGEST_SECONDS=8 to change)

import os from "node:os";
import { type ClickEvent, COUNTED_VERDICTS, FRAUD_VERDICTS, type StatsQueryInput } from "@afftrack/core";
import {
  addToRollups,
  backfillClickRollups,
  type CallerScope,
  conversionRollupRows,
  type Database,
  ensureClickPartition,
  insertClickBatch,
  queryStats,
  rebuildDailyTier,
  rebuildTotals,
} from "@afftrack/db";
import { type Kysely, sql } from "kysely";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { spawnStack } from "../lib/spawn-stack";
import { fmt, withTempDatabase } from "../lib/temp-database";
import { COUNTRY_LIST, clickBatch, LINKS, OFFERS, PUBLISHERS } from "./traffic";

const CLICKS = Number(process.env.CLICKS ?? 10_000_000);
const CONVERSIONS = Number(process.env.CONVERSIONS ?? Math.round(CLICKS / 50));
const DAYS = 90;
const RUNS = Number(process.env.RUNS ?? 30);
const INGEST_SECONDS = Number(process.env.INGEST_SECONDS ?? 8);
const EXPORT_ROWS = Number(process.env.EXPORT_ROWS ?? 200_000);
// Clicks per consumer statement: 100 = one full queue message (MAX_CLICKS_PER_MESSAGE); under load the
// consumer takes up to 20 messages (max_batch_size) in one statement. A comma list measures each.
const INGEST_BATCHES = (process.env.INGEST_BATCH ?? "100").split(",").map(Number);

const progress = (msg: string) => process.stderr.write(`[bench/stats] ${msg}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function time(
  runs: number,
  op: () => Promise<unknown>,
  warmup = 3,
): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < warmup; i++) await op();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await op();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function timed<T>(label: string, op: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const out = await op();
  progress(`${label}: ${fmt((performance.now() - t) / 1000)} s`);
  return out;
}

/** RSS (kB) of a process and all its descendants (the stack's Node process runs workerd as a child). */
async function treeRssKb(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    try {
      const status = await readFile(`/proc/${p}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const { readdir } = await import("node:fs/promises");
      for (const task of await readdir(`/proc/${p}/task`)) {
        const kids = await readFile(`/proc/${p}/task/${task}/children`, "utf8").catch(() => "");
        for (const k of kids.trim().split(/\s+/).filter(Boolean)) stack.push(Number(k));
      }
    } catch {
      // exited
    }
  }
  return total;
}

const SAMPLE_TABLES = ["stats_q", "stats_total", "stats_day"];

/** Runs `fn` in a transaction with bulk-load settings (sorts and hashes in memory, parallel index builds). */
async function bulk<T>(db: Kysely<never>, fn: (tx: Kysely<never>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (tx) => {
    await sql`SET LOCAL work_mem = '256MB'`.execute(tx);
    await sql`SET LOCAL maintenance_work_mem = '1GB'`.execute(tx);
    await sql`SET LOCAL max_parallel_maintenance_workers = 2`.execute(tx);
    await sql`SET LOCAL synchronous_commit = off`.execute(tx);
    return fn(tx);
  });
}

/** Runs the tasks `width` at a time. */
async function parallel(tasks: (() => Promise<unknown>)[], width = 2): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) await (tasks[next++] as () => Promise<unknown>)();
    }),
  );
}

/** `count` clicks for `tenant` drawn from the traffic model, ids and links prefixed with `prefix`, in time order. */
async function loadClicks(db: Kysely<never>, tenant: string, prefix: string, count: number, start: Date) {
  const chunk = 1_000_000;
  const countries = sql.val(COUNTRY_LIST);
  const tasks: (() => Promise<unknown>)[] = [];
  let done = 0;
  for (let a = 0; a < count; a += chunk) {
    const b = Math.min(count, a + chunk) - 1;
    tasks.push(async () => {
      await bulk(db, (tx) =>
        sql`
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, created_at,
        verdict, source, country, device, os, browser, ip_hash, sub1)
      SELECT ${`${prefix}c`} || g, ${tenant}, ${`${prefix}l`} || x.l, 'off_b' || (x.l % ${OFFERS}),
        'pub_b' || ((x.l * 7) % ${PUBLISHERS}), 'adv_b' || ((x.l % ${OFFERS}) % 20),
        ${start.toISOString()}::timestamptz + (g::float8 / ${count}) * interval '${sql.raw(String(DAYS))} days',
        CASE WHEN x.v < 0.85 THEN 'valid' WHEN x.v < 0.90 THEN 'duplicate' WHEN x.v < 0.93 THEN 'bot'
          WHEN x.v < 0.96 THEN 'expired' WHEN x.v < 0.98 THEN 'replay' ELSE 'geo_blocked' END,
        'redirect',
        (${countries}::text[])[1 + least(${COUNTRY_LIST.length - 1}, floor(power(${COUNTRY_LIST.length}, x.c))::int - 1)],
        CASE WHEN x.d < 0.6 THEN 'mobile' WHEN x.d < 0.95 THEN 'desktop' ELSE 'tablet' END,
        CASE WHEN x.d < 0.6 THEN CASE WHEN x.o < 0.7 THEN 'Android' ELSE 'iOS' END
          WHEN x.d < 0.95 THEN CASE WHEN x.o < 0.75 THEN 'Windows' WHEN x.o < 0.95 THEN 'macOS' ELSE 'Linux' END
          ELSE CASE WHEN x.o < 0.6 THEN 'iOS' ELSE 'Android' END END,
        CASE WHEN x.b < 0.64 THEN 'Chrome' WHEN x.b < 0.84 THEN 'Safari' WHEN x.b < 0.91 THEN 'Edge'
          WHEN x.b < 0.96 THEN 'Firefox' ELSE 'Samsung Internet' END,
        'v' || floor(x.w * ${Math.max(1, Math.round(count / 3))})::bigint,
        CASE WHEN x.s < 0.3 THEN NULL ELSE 'sub' || least(199, floor(power(200, x.s2))::int - 1) END
      FROM generate_series(${a}::bigint, ${b}::bigint) g,
        LATERAL (SELECT least(${LINKS - 1}, floor(power(${LINKS}, random() + g * 0))::int - 1) AS l, random() AS v,
          random() AS c, random() AS d, random() AS o, random() AS b, random() AS w, random() AS s, random() AS s2) x
    `.execute(tx),
      );
      done += b - a + 1;
      if (count > chunk) progress(`  ${done} clicks`);
    });
  }
  await parallel(tasks);
}

/** Conversions on every (count / conversions)-th click of `loadClicks`. */
async function loadConversions(
  db: Kysely<never>,
  tenant: string,
  prefix: string,
  count: number,
  conversions: number,
) {
  const every = Math.max(1, Math.floor(count / conversions));
  await sql`
    INSERT INTO conversions (id, tenant_id, advertiser_id, offer_id, transaction_id, click_id, publisher_id,
      tracking_code, click_verdict, attribution, status, amount, currency, payout, payout_currency,
      revenue_in_rollup, payout_in_rollup, source, created_at, updated_at)
    SELECT ${`${prefix}v`} || g, k.tenant_id, k.advertiser_id, k.offer_id, ${`${prefix}tx`} || g, k.click_id,
      k.publisher_id, k.tracking_code, k.verdict, 'click',
      CASE WHEN g % 10 < 7 THEN 'approved' WHEN g % 10 < 9 THEN 'pending' ELSE 'rejected' END,
      10 + (g % 90) + (g % 7) * 0.0125, CASE WHEN g % 10 = 3 THEN 'EUR' ELSE 'USD' END, 1 + (g % 9),
      CASE WHEN g % 10 = 3 THEN 'EUR' ELSE 'USD' END, true, true, 'postback',
      least(k.created_at + interval '1 hour', now()), least(k.created_at + interval '1 hour', now())
    FROM generate_series(0, ${conversions - 1}) g
    JOIN clicks k ON k.click_id = ${`${prefix}c`} || (g * ${every}) AND k.tenant_id = ${tenant}
  `.execute(db);
}

/**
 * Every rollup tier built set-based from the raw rows (all tenants, into empty tables), as the
 * writers would have left them: stats_q from clicks (unique = the first click of its UTC day, link
 * and visitor, or a click without visitor hash) and conversions (the click's dimensions, approved
 * money), the daily tier from stats_q, the live counters of the last two hours, and the
 * unique-click keys of the days retention keeps (3 days back).
 *
 * stats_q is written one (tenant, UTC day) per statement, two at a time: a bucket and a
 * unique-click key never span two UTC days, so the slices are disjoint and each one's window and
 * GROUP BY stay in memory. Its key is built once afterwards (a bulk load, not an upsert per row).
 * The daily tier is rebuilt from stats_q in slices of whole local days of each tenant's zone.
 */
async function buildRollups(
  db: Kysely<never>,
  tenants: { id: string; clicks: number }[],
  start: Date,
  end: Date,
) {
  await sql`ALTER TABLE stats_q DROP CONSTRAINT stats_q_pkey`.execute(db);
  const clickSlice = (tenant: string, from: Date, to: Date) =>
    bulk(db, (tx) =>
      sql`
      INSERT INTO stats_q (tenant_id, bucket, offer_id, publisher_id, advertiser_id, country, device, os, browser, sub1,
        verdict, currency, payout_currency, clicks, unique_clicks)
      SELECT tenant_id, date_bin('15 minutes', created_at, timestamptz 'epoch'), offer_id, publisher_id, advertiser_id,
        country, device, os, browser, sub1, verdict, '', '', count(*), sum(u)
      FROM (
        SELECT tenant_id, created_at, offer_id, coalesce(publisher_id, '') AS publisher_id,
          coalesce(advertiser_id, '') AS advertiser_id, coalesce(country, '') AS country, coalesce(device, '') AS device,
          coalesce(os, '') AS os, coalesce(browser, '') AS browser, coalesce(sub1, '') AS sub1, verdict,
          (ip_hash IS NULL OR row_number() OVER (PARTITION BY (created_at AT TIME ZONE 'UTC')::date, tracking_code, ip_hash
            ORDER BY created_at, click_id) = 1)::int AS u
        FROM clicks WHERE tenant_id = ${tenant} AND created_at >= ${from.toISOString()}::timestamptz
          AND created_at < ${to.toISOString()}::timestamptz
      ) x
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11`.execute(tx),
    );
  const day0 = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  const tasks: (() => Promise<unknown>)[] = [];
  for (const t of tenants) {
    if (t.clicks < 200_000) {
      tasks.push(() => clickSlice(t.id, new Date(day0), new Date(end.getTime() + 86_400_000)));
      continue;
    }
    for (let d = day0; d <= end.getTime(); d += 86_400_000) {
      tasks.push(() => clickSlice(t.id, new Date(d), new Date(d + 86_400_000)));
    }
  }
  tasks.push(() =>
    bulk(db, (tx) =>
      sql`
      INSERT INTO stats_q (tenant_id, bucket, offer_id, publisher_id, advertiser_id, country, device, os, browser, sub1,
        verdict, currency, payout_currency, pending_conversions, approved_conversions, rejected_conversions, revenue,
        payout)
      SELECT v.tenant_id, date_bin('15 minutes', v.created_at, timestamptz 'epoch'), v.offer_id, coalesce(v.publisher_id, ''),
        v.advertiser_id, coalesce(k.country, ''), coalesce(k.device, ''), coalesce(k.os, ''), coalesce(k.browser, ''),
        coalesce(k.sub1, ''), '', trim(v.currency), trim(v.payout_currency), count(*) FILTER (WHERE v.status = 'pending'),
        count(*) FILTER (WHERE v.status = 'approved'), count(*) FILTER (WHERE v.status = 'rejected'),
        coalesce(sum(v.amount) FILTER (WHERE v.status = 'approved'), 0),
        coalesce(sum(v.payout) FILTER (WHERE v.status = 'approved'), 0)
      FROM conversions v LEFT JOIN clicks k ON k.click_id = v.click_id AND k.tenant_id = v.tenant_id
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13`.execute(tx),
    ),
  );
  await timed(
    `stats_q from clicks and conversions (${tasks.length} INSERT … SELECT … GROUP BY, 2 at a time)`,
    () => parallel(tasks),
  );
  await timed("stats_q key index", () =>
    bulk(db, (tx) =>
      sql`ALTER TABLE stats_q ADD PRIMARY KEY (tenant_id, bucket, offer_id, publisher_id, advertiser_id, country, device,
      os, browser, sub1, verdict, currency, payout_currency)`.execute(tx),
    ),
  );
  await sql`ANALYZE stats_q`.execute(db);
  await timed("network totals (stats_total) from stats_q (rebuildTotals, one statement per tenant)", () =>
    parallel(tenants.map((t) => () => bulk(db, (tx) => rebuildTotals(t.id).execute(tx)))),
  );
  // Slices of whole local days (10 at a time) of each tenant's zone, from before the first click to after the last.
  const daily: (() => Promise<unknown>)[] = [];
  for (const t of tenants) {
    const bounds = await sql<{ at: Date }>`
      SELECT (d::date::timestamp AT TIME ZONE z.tz) AS at
      FROM (SELECT timezone AS tz FROM tenants WHERE id = ${t.id}) z,
        generate_series((${start.toISOString()}::timestamptz AT TIME ZONE z.tz)::date - 1,
          (${end.toISOString()}::timestamptz AT TIME ZONE z.tz)::date + 2, interval '10 days') d
      ORDER BY 1`.execute(db);
    const at = [
      new Date("2000-01-01T00:00:00Z"),
      ...bounds.rows.slice(1).map((r) => r.at),
      new Date("2100-01-01T00:00:00Z"),
    ];
    for (let i = 0; i + 1 < at.length; i++) {
      const slice = { from: at[i] as Date, to: at[i + 1] as Date };
      daily.push(() => bulk(db, (tx) => rebuildDailyTier(t.id, slice).execute(tx)));
    }
  }
  await timed(
    `daily tier from stats_q (rebuildDailyTier in ${daily.length} slices of local days, 2 at a time)`,
    () => parallel(daily),
  );
  await timed("stats_live (last 2 hours) and click_uniques (last 3 days)", async () => {
    await sql`
      INSERT INTO stats_live (tenant_id, minute, advertiser_id, publisher_id, clicks, valid_clicks, fraud_clicks, conversions)
      SELECT tenant_id, minute, advertiser_id, publisher_id, sum(c), sum(valid), sum(fraud), sum(conv) FROM (
        SELECT tenant_id, date_trunc('minute', created_at) AS minute, coalesce(advertiser_id, '') AS advertiser_id,
          coalesce(publisher_id, '') AS publisher_id, 1 AS c, (verdict = ANY(${sql.val([...COUNTED_VERDICTS])}::text[]))::int AS valid,
          (verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[]))::int AS fraud, 0 AS conv
        FROM clicks WHERE created_at >= now() - interval '2 hours'
        UNION ALL
        SELECT tenant_id, date_trunc('minute', created_at), advertiser_id, coalesce(publisher_id, ''), 0, 0, 0, 1
        FROM conversions WHERE created_at >= now() - interval '2 hours') x
      GROUP BY 1, 2, 3, 4`.execute(db);
    await sql`
      INSERT INTO click_uniques (day, tracking_code, ip_hash)
      SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, tracking_code, ip_hash FROM clicks
      WHERE ip_hash IS NOT NULL AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '3 days'`.execute(
      db,
    );
  });
}

/** The sample network's rollups as rows (non-zero counters), for the set-based vs writer check. */
async function sampleRollups(db: Kysely<never>, tenant: string): Promise<string[]> {
  const out: string[] = [];
  for (const table of SAMPLE_TABLES) {
    const rows = await sql<{ r: string }>`
      SELECT (s.*)::text AS r FROM ${sql.table(table)} s WHERE tenant_id = ${tenant}
        AND (clicks <> 0 OR pending_conversions <> 0 OR approved_conversions <> 0 OR rejected_conversions <> 0)
      ORDER BY 1`.execute(db);
    for (const row of rows.rows) out.push(`${table} ${row.r}`);
  }
  return out;
}

async function load(db: Kysely<never>, tenant: string, sample: string, end: Date): Promise<void> {
  const start = new Date(end.getTime() - DAYS * 86_400_000);
  for (
    let m = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1));
    m <= end;
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))
  ) {
    await ensureClickPartition(db as never, m);
  }
  await sql`
    INSERT INTO advertisers (id, tenant_id, name) SELECT 'adv_b' || i, ${tenant}, 'Adv ' || i FROM generate_series(0, 19) i;
  `.execute(db);
  await sql`
    INSERT INTO publishers (id, tenant_id, name) SELECT 'pub_b' || i, ${tenant}, 'Pub ' || i FROM generate_series(0, ${PUBLISHERS - 1}) i;
  `.execute(db);
  await sql`
    INSERT INTO offers (id, tenant_id, advertiser_id, name, destination_url, payout_amount)
    SELECT 'off_b' || i, ${tenant}, 'adv_b' || (i % 20), 'Offer ' || i, 'https://example.com/', 2
    FROM generate_series(0, ${OFFERS - 1}) i;
  `.execute(db);
  await sql`UPDATE tenants SET timezone = 'America/New_York' WHERE id = ${tenant}`.execute(db);
  await sql`INSERT INTO tenants (id, name, timezone) VALUES (${sample}, 'Sample', 'Asia/Kathmandu')`.execute(
    db,
  );
  const loadStart = performance.now();
  // A bulk load: the clicks' indexes are built once afterwards instead of row by row.
  await sql`DROP INDEX clicks_offer_time, clicks_code_time, clicks_tenant_time`.execute(db);
  await sql`ALTER TABLE clicks DROP CONSTRAINT clicks_pkey`.execute(db);
  await timed(
    `load ${CLICKS} clicks (INSERT … SELECT generate_series, 1 M per statement, 2 at a time, no indexes)`,
    () => loadClicks(db, tenant, "b", CLICKS, start),
  );
  await loadClicks(db, sample, "s", SAMPLE_CLICKS, start);
  await timed("build the clicks' primary key and indexes", async () => {
    await bulk(db, (tx) => sql`ALTER TABLE clicks ADD PRIMARY KEY (click_id, created_at)`.execute(tx));
    await parallel([
      () =>
        bulk(db, (tx) =>
          sql`CREATE INDEX clicks_offer_time ON clicks (tenant_id, offer_id, created_at)`.execute(tx),
        ),
      () =>
        bulk(db, (tx) =>
          sql`CREATE INDEX clicks_code_time ON clicks (tracking_code, created_at)`.execute(tx),
        ),
      () =>
        bulk(db, (tx) =>
          sql`CREATE INDEX clicks_tenant_time ON clicks (tenant_id, created_at, click_id)`.execute(tx),
        ),
    ]);
    await sql`ANALYZE clicks`.execute(db);
  });
  await timed(`load ${CONVERSIONS} conversions`, async () => {
    await loadConversions(db, tenant, "b", CLICKS, CONVERSIONS);
    await loadConversions(db, sample, "s", SAMPLE_CLICKS, Math.round(SAMPLE_CLICKS / 50));
    await sql`ANALYZE conversions`.execute(db);
  });
  await buildRollups(
    db,
    [
      { id: tenant, clicks: CLICKS },
      { id: sample, clicks: SAMPLE_CLICKS },
    ],
    start,
    end,
  );
  loadSeconds = (performance.now() - loadStart) / 1000;
  progress(`load and rollups: ${fmt(loadSeconds)} s`);

  // The check: the sample network's set-based rollups equal what the writers' statements produce.
  const setBased = await sampleRollups(db, sample);
  for (const table of SAMPLE_TABLES) {
    await sql`DELETE FROM ${sql.table(table)} WHERE tenant_id = ${sample}`.execute(db);
  }
  await sql`DELETE FROM click_uniques WHERE tracking_code LIKE 'sl%'`.execute(db);
  await backfillClickRollups(db as never, {
    from: start,
    to: new Date(end.getTime() + 60_000),
    tenantId: sample,
  });
  await addToRollups(
    conversionRollupRows(sql`(SELECT * FROM conversions WHERE tenant_id = ${sample})`),
  ).execute(db);
  const byWriter = await sampleRollups(db, sample);
  const missing = setBased.filter((r) => !byWriter.includes(r));
  const extra = byWriter.filter((r) => !setBased.includes(r));
  sampleCheck = `${SAMPLE_CLICKS} clicks, ${setBased.length} rollup rows: set-based ${missing.length === 0 && extra.length === 0 && setBased.length === byWriter.length ? "EQUALS" : "DIFFERS FROM"} the writer statements`;
  progress(`sample check: ${sampleCheck}`);
  if (missing.length > 0 || extra.length > 0) {
    progress(`  only set-based: ${missing.slice(0, 3).join(" | ")}`);
    progress(`  only writer: ${extra.slice(0, 3).join(" | ")}`);
  }
  await sql`ANALYZE`.execute(db);
}

/** EXPLAIN ANALYZE of a stats query (EXPLAIN=1): its scans, planning and execution times. */
async function explain(databaseUrl: string, caller: CallerScope, query: StatsQueryInput): Promise<void> {
  const { default: pg } = await import("pg");
  const { Kysely: K, PostgresDialect } = await import("kysely");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  let captured: { sql: string; parameters: readonly unknown[] } | undefined;
  const logged = new K<never>({
    dialect: new PostgresDialect({ pool }),
    log: (e) => {
      if (e.query.sql.includes("GROUP BY z.period")) captured = e.query;
    },
  });
  await queryStats(logged as never, caller, query);
  if (captured) {
    const plan = await pool.query(
      `EXPLAIN (ANALYZE, BUFFERS) ${captured.sql}`,
      captured.parameters as unknown[],
    );
    for (const row of plan.rows as { "QUERY PLAN": string }[]) {
      const line = row["QUERY PLAN"];
      // EXPLAIN=1: scans and times; EXPLAIN=2: the whole plan.
      if (process.env.EXPLAIN === "2" || /Scan on (stats|clicks)|Planning|Execution/.test(line))
        progress(`    ${line}`);
    }
  }
  await logged.destroy();
}

/**
 * The clicks consumer's ingest rate: batches of 100 clicks from the traffic model, 2 concurrent
 * writers, with the rollups (the consumer's real statement) and without (the same insert and fraud
 * events, no rollup CTEs), alternating in 4 rounds of INGEST_SECONDS / 4 each; a ratio of the same run.
 */
async function ingest(db: Kysely<Database>, tenant: string, size: number): Promise<string> {
  const batch = (): ClickEvent[] => clickBatch(tenant, size);
  const bare = async (events: ClickEvent[]) => {
    await sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(events)}::jsonb) AS t(
          click_id text, created_at bigint, tenant_id text, tracking_code text, offer_id text, publisher_id text,
          advertiser_id text, verdict text, source text, country text, device text, os text, browser text,
          ip_hash text, sub1 text, sub2 text, sub3 text, sub4 text, sub5 text, referer text, unverified boolean,
          flags text[], hold boolean)
      ), ins AS (
        INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, created_at,
          verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3, sub4, sub5, referer, unverified,
          flags, held)
        SELECT click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
          to_timestamp(created_at / 1000.0), verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3,
          sub4, sub5, referer, coalesce(unverified, false), coalesce(flags, '{}'), coalesce(hold, false)
        FROM input ON CONFLICT (click_id, created_at) DO NOTHING
        RETURNING click_id, tenant_id, tracking_code, offer_id, publisher_id, verdict, created_at, country, flags, held
      ), fraud AS (
        INSERT INTO fraud_events (tenant_id, kind, click_id, tracking_code, offer_id, publisher_id, detail, created_at)
        SELECT tenant_id, kind, click_id, tracking_code, offer_id, publisher_id,
          jsonb_build_object('country', country, 'verdict', verdict, 'held', held), created_at
        FROM (
          SELECT *, verdict AS kind FROM ins WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[])
          UNION ALL SELECT *, unnest(flags) AS kind FROM ins
        ) f
        ON CONFLICT (click_id, kind) WHERE click_id IS NOT NULL DO NOTHING RETURNING 1
      )
      SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM fraud)`.execute(db);
  };
  const rate = async (write: (events: ClickEvent[]) => Promise<unknown>, seconds: number) => {
    const deadline = Date.now() + seconds * 1000;
    const started = Date.now();
    let clicks = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (Date.now() < deadline) {
          await write(batch());
          clicks += size;
        }
      }),
    );
    return { clicks, seconds: (Date.now() - started) / 1000 };
  };
  const acc = { with: { clicks: 0, seconds: 0 }, without: { clicks: 0, seconds: 0 } };
  for (let round = 0; round < 4; round++) {
    const a = await rate((e) => insertClickBatch(db, e), INGEST_SECONDS / 4);
    const b = await rate(bare, INGEST_SECONDS / 4);
    acc.with.clicks += a.clicks;
    acc.with.seconds += a.seconds;
    acc.without.clicks += b.clicks;
    acc.without.seconds += b.seconds;
  }
  const withRate = acc.with.clicks / acc.with.seconds;
  const withoutRate = acc.without.clicks / acc.without.seconds;
  return `consumer ingest (statements of ${size} clicks from the traffic model, 2 writers, ${INGEST_SECONDS} s each way): with rollups ${fmt(withRate, 0)} clicks/s, without ${fmt(withoutRate, 0)} clicks/s, ratio ${fmt(withRate / withoutRate, 2)}`;
}

/** CSV export: the newest EXPORT_ROWS clicks' range, streamed through the API; the stack's RSS (Node + workerd) sampled every 50 ms. */
async function exportPeak(
  db: Kysely<Database>,
  stack: { pid: number; apiUrl: string },
  tenant: string,
  token: string,
): Promise<string> {
  const edge = await sql<{ t: string }>`
    SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM clicks
    WHERE tenant_id = ${tenant} ORDER BY created_at DESC OFFSET ${EXPORT_ROWS} LIMIT 1`.execute(db);
  const from = edge.rows[0]?.t ?? "2000-01-01T00:00:00Z";
  const baseline = await treeRssKb(stack.pid);
  let peak = baseline;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await treeRssKb(stack.pid));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const t0 = performance.now();
  const res = await fetch(`${stack.apiUrl}/api/exports/clicks.csv?from=${from}&to=2100-01-01T00:00:00Z`, {
    headers: { authorization: `Bearer ${token}` },
  });
  let bytes = 0;
  let lines = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (const b of value) if (b === 10) lines++;
  }
  const exportSeconds = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  return `CSV export: ${lines - 1} rows, ${fmt(bytes / 1e6)} MB in ${fmt(exportSeconds)} s; stack RSS ${fmt(baseline / 1024)} MB before, peak ${fmt(peak / 1024)} MB (+${fmt((peak - baseline) / 1024)} MB)`;
}

let loadSeconds = 0;
let sampleCheck = "";
const SAMPLE_CLICKS = Number(process.env.SAMPLE_CLICKS ?? 20_000);

// STATS_BENCH_DB=<url of a database an earlier run loaded> times the queries and ingest again
// without loading (a run that was cut short leaves its database behind).
const reuse = process.env.STATS_BENCH_DB;
const keep = process.env.KEEP_DB;
const loadOnly = process.env.LOAD_ONLY === "1";
const parts = new Set((process.env.PARTS ?? "queries,ingest,export").split(","));

/** A database like withTempDatabase's, kept afterwards: its URL is written to `file`. */
async function withKeptDatabase(file: string, fn: (url: string) => Promise<void>): Promise<void> {
  const { default: pg } = await import("pg");
  const { writeFile } = await import("node:fs/promises");
  const { migrateDatabase } = await import("../../packages/devstack/src/migrate");
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `afftrack_bench_stats_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  await fn(url.toString());
  await writeFile(file, `${url.toString()}\n`);
  progress(`kept the database: ${url.toString()} (written to ${file})`);
}

await (reuse
  ? (fn: (url: string) => Promise<void>) => fn(reuse)
  : keep
    ? (fn: (url: string) => Promise<void>) => withKeptDatabase(keep, fn)
    : withTempDatabase)(async (databaseUrl) => {
  const stack = await spawnStack({
    stack: {
      databaseUrl,
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
      migrate: false,
      pooler: process.env.POOLER === "0" ? false : "auto",
    },
  });
  const db = nodeDb(databaseUrl);
  try {
    const reg = await fetch(`${stack.apiUrl}/api/auth/${reuse ? "login" : "register"}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        ...(reuse ? {} : { network_name: "Bench", name: "B" }),
        email: "bench@example.test",
        password: "s3cret-passw0rd",
      }),
    });
    const session = (await reg.json()) as { data: { access_token: string; user: { tenant_id: string } } };
    const token = session.data.access_token;
    const tenant = session.data.user.tenant_id;
    const now = new Date();
    if (reuse) {
      sampleCheck = "(reused database: loaded and checked by an earlier run)";
      await sql`ANALYZE`.execute(db);
    } else {
      await load(db as never, tenant, "tnt_sample", now);
    }

    const sizes = await sql<{ t: string; rows: string; mb: string }>`
      SELECT t, (SELECT count(*) FROM clicks)::text AS rows, pg_size_pretty(pg_total_relation_size('clicks')) AS mb
      FROM (VALUES ('clicks')) v(t)`.execute(db);
    for (const table of SAMPLE_TABLES) {
      const r = await sql<{ t: string; rows: string; mb: string }>`
        SELECT ${table}::text AS t, (SELECT count(*) FROM ${sql.table(table)} WHERE tenant_id = ${tenant})::text AS rows,
          pg_size_pretty(pg_total_relation_size(${table}::regclass)) AS mb`.execute(db);
      sizes.rows.push(...r.rows);
    }
    const partitionSizes = await sql<{ n: string; size: string }>`
      SELECT count(*)::text AS n, pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'clicks'`.execute(db);

    const admin: CallerScope = {
      tenant_id: tenant,
      role: "network_admin",
      advertiser_id: null,
      publisher_id: null,
    };
    const pub: CallerScope = {
      tenant_id: tenant,
      role: "publisher",
      advertiser_id: null,
      publisher_id: "pub_b7",
    };
    const q = (over: Partial<StatsQueryInput>): StatsQueryInput => ({
      timezone: "America/New_York",
      group_by: [],
      include_bots: false,
      ...over,
    });
    const cases: { name: string; caller: CallerScope; query: StatsQueryInput; url: string }[] = [
      {
        name: "30 days by day",
        caller: admin,
        query: q({ interval: "30d", group_by: ["day"] }),
        url: "interval=30d&group_by=day&timezone=America/New_York",
      },
      {
        name: "30 days by offer",
        caller: admin,
        query: q({ interval: "30d", group_by: ["offer"] }),
        url: "interval=30d&group_by=offer&timezone=America/New_York",
      },
      {
        name: "30 days by publisher",
        caller: admin,
        query: q({ interval: "30d", group_by: ["publisher"] }),
        url: "interval=30d&group_by=publisher&timezone=America/New_York",
      },
      {
        name: "30 days by country",
        caller: admin,
        query: q({ interval: "30d", group_by: ["country"] }),
        url: "interval=30d&group_by=country&timezone=America/New_York",
      },
      {
        name: "this month vs last month",
        caller: admin,
        query: q({ interval: "mtd", compare: "previous_period" }),
        url: "interval=mtd&compare=previous_period&timezone=America/New_York",
      },
      {
        name: "a publisher's own view (30d by day)",
        caller: pub,
        query: q({ interval: "30d", group_by: ["day"] }),
        url: "interval=30d&group_by=day&timezone=America/New_York&publisher_id=pub_b7",
      },
      {
        name: "30 days by day, Asia/Kathmandu (stats_total)",
        caller: admin,
        query: q({ interval: "30d", group_by: ["day"], timezone: "Asia/Kathmandu" }),
        url: "interval=30d&group_by=day&timezone=Asia/Kathmandu",
      },
      {
        name: "30 days by sub1 (stats_q)",
        caller: admin,
        query: q({ interval: "30d", group_by: ["sub1"] }),
        url: "interval=30d&group_by=sub1&timezone=America/New_York",
      },
    ];
    const results: string[] = [];
    const loadBefore = os.loadavg()[0]?.toFixed(2);
    // FINE=0 skips the stats_q cases (seconds each at 10 M clicks).
    const timedCases = cases.filter((c) => process.env.FINE !== "0" || !c.name.includes("(stats_q)"));
    for (const c of parts.has("queries") && !loadOnly ? timedCases : []) {
      // stats_q cases read ~one row per click of the range: a few runs show their order of magnitude.
      const runs = c.name.includes("(stats_q)") ? Math.min(RUNS, 3) : RUNS;
      if (process.env.EXPLAIN) await explain(databaseUrl, c.caller, c.query);
      const warmup = c.name.includes("(stats_q)") ? 1 : 3;
      const asSql = await time(runs, () => queryStats(db, c.caller, c.query), warmup);
      const e2e = await time(
        runs,
        async () => {
          const res = await fetch(`${stack.apiUrl}/api/stats?${c.url}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (res.status !== 200) throw new Error(`${c.url}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        },
        warmup,
      );
      results.push(
        `  ${c.name.padEnd(48)} SQL p50 ${fmt(asSql.p50)} ms  p95 ${fmt(asSql.p95)} ms   HTTP p50 ${fmt(e2e.p50)} ms  p95 ${fmt(e2e.p95)} ms`,
      );
      progress(results[results.length - 1] as string);
    }

    console.log(
      `bench/stats: ${CLICKS} clicks, ${CONVERSIONS} conversions over ${DAYS} days, ${OFFERS} offers, ${PUBLISHERS} publishers, ${LINKS} links`,
    );
    for (const s of sizes.rows) console.log(`  ${s.t.padEnd(26)} ${s.rows.padStart(10)} rows  ${s.mb}`);
    console.log(`  load + set-based rollups: ${fmt(loadSeconds)} s; sample check: ${sampleCheck}`);
    console.log(`  clicks partitions: ${partitionSizes.rows[0]?.n} (${partitionSizes.rows[0]?.size})`);
    if (results.length > 0) {
      console.log(
        `load average (1 min) before/after the timings: ${loadBefore} / ${os.loadavg()[0]?.toFixed(2)}`,
      );
      console.log(
        `dashboard queries (${RUNS} runs each; SQL = queryStats over node-postgres, HTTP = GET /api/stats via the local Neon HTTP endpoint):`,
      );
      for (const line of results) console.log(line);
    }
    for (const size of parts.has("ingest") && !loadOnly ? INGEST_BATCHES : []) {
      console.log(await ingest(db, tenant, size));
    }
    if (parts.has("export") && !loadOnly) console.log(await exportPeak(db, stack, tenant, token));
  } finally {
    await db.destroy();
    await stack.stop();
  }
});
