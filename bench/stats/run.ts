// bench/stats: dashboard queries over the rollups at scale, as SQL and end to end through
// GET /api/stats, the clicks consumer's ingest rate with and without rollups (a ratio, same run),
// and the peak memory of a streamed CSV export.
//
// Data: one network (time zone America/New_York) with 20 advertisers, OFFERS offers and PUBLISHERS
// publishers, LINKS tracking links (skewed: a few links carry most traffic), CLICKS clicks spread
// evenly over the last 90 days (85 % valid, 5 % duplicate, 3 % bot, 7 % fraud verdicts; 12
// countries, 3 devices, 4 OSes, 4 browsers, 20 sub1 values; visitors repeat so unique < gross), and
// CONVERSIONS conversions on every (CLICKS / CONVERSIONS)-th click (70 % approved, 20 % pending, 10 %
// rejected; USD and EUR).
// Loaded with INSERT … SELECT generate_series straight into the partitioned clicks and conversions
// tables (no API, no writer statement), then every rollup tier is built set-based: one INSERT …
// SELECT … GROUP BY per table (stats_q from clicks and conversions, the daily tier from stats_q,
// stats_live from the last two hours, click_uniques for the days retention keeps). A SAMPLE network
// (Asia/Kathmandu) is loaded the same way, built set-based with the rest, then rebuilt through the
// writers' own statements (backfillClickRollups, conversionRollupRows): both must be equal.
//
//   pnpm bench:stats            (CLICKS=10000000 CONVERSIONS=200000 RUNS=30 INGEST_SECONDS=8 to change)

import {
  type ClickEvent,
  COUNTED_VERDICTS,
  FRAUD_VERDICTS,
  newClickId,
  type StatsQueryInput,
} from "@afftrack/core";
import {
  addToRollups,
  backfillClickRollups,
  type CallerScope,
  conversionRollupRows,
  ensureClickPartition,
  insertClickBatch,
  queryStats,
  rebuildDailyTier,
} from "@afftrack/db";
import { type Kysely, sql } from "kysely";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { spawnStack } from "../lib/spawn-stack";
import { fmt, withTempDatabase } from "../lib/temp-database";

const CLICKS = Number(process.env.CLICKS ?? 10_000_000);
const CONVERSIONS = Number(process.env.CONVERSIONS ?? Math.round(CLICKS / 50));
const OFFERS = 300;
const PUBLISHERS = 300;
const LINKS = 1500;
const DAYS = 90;
const RUNS = Number(process.env.RUNS ?? 30);
const INGEST_SECONDS = Number(process.env.INGEST_SECONDS ?? 8);
const EXPORT_ROWS = Number(process.env.EXPORT_ROWS ?? 200_000);

const progress = (msg: string) => process.stderr.write(`[bench/stats] ${msg}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function time(runs: number, op: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await op();
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

const DAILY = ["stats_day_country", "stats_day_offer", "stats_day_publisher", "stats_day_offer_publisher"];

/** `count` clicks for `tenant`, ids and links prefixed with `prefix`. */
async function loadClicks(db: Kysely<never>, tenant: string, prefix: string, count: number, start: Date) {
  const chunk = 500_000;
  for (let a = 0; a < count; a += chunk) {
    const b = Math.min(count, a + chunk) - 1;
    await sql`
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, created_at,
        verdict, source, country, device, os, browser, ip_hash, sub1)
      SELECT ${`${prefix}c`} || g, ${tenant}, ${`${prefix}l`} || x.l, 'off_b' || (x.l % ${OFFERS}),
        'pub_b' || ((x.l * 7) % ${PUBLISHERS}), 'adv_b' || ((x.l % ${OFFERS}) % 20),
        ${start.toISOString()}::timestamptz + (g::float8 / ${count}) * interval '${sql.raw(String(DAYS))} days',
        CASE WHEN x.r < 0.85 THEN 'valid' WHEN x.r < 0.90 THEN 'duplicate' WHEN x.r < 0.93 THEN 'bot'
          WHEN x.r < 0.96 THEN 'expired' WHEN x.r < 0.98 THEN 'replay' ELSE 'geo_blocked' END,
        'redirect',
        (ARRAY['US','US','US','GB','DE','FR','IN','BR','CA','AU','NP','JP'])[1 + (x.r2 * 12)::int % 12],
        (ARRAY['desktop','mobile','tablet'])[1 + (x.r3 * 3)::int % 3],
        (ARRAY['Windows','Android','iOS','macOS'])[1 + (x.r2 * 97)::int % 4],
        (ARRAY['Chrome','Safari','Firefox','Edge'])[1 + (x.r3 * 89)::int % 4],
        'v' || ((x.r4 * ${Math.max(1, Math.round(count / 3))})::bigint),
        'sub' || ((x.r4 * 20)::int)
      FROM generate_series(${a}::bigint, ${b}::bigint) g,
        LATERAL (SELECT floor(${LINKS} * power(random() + g * 0, 2))::int AS l, random() AS r, random() AS r2,
          random() AS r3, random() AS r4) x
    `.execute(db);
    if (count > chunk) progress(`  ${b + 1} clicks`);
  }
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
 */
async function buildRollups(db: Kysely<never>): Promise<void> {
  // stats_q's key index is built once afterwards (a bulk load), so clicks and conversions go in one
  // INSERT … SELECT … GROUP BY without ON CONFLICT.
  await sql`ALTER TABLE stats_q DROP CONSTRAINT stats_q_pkey`.execute(db);
  await timed("stats_q from clicks and conversions (one INSERT … SELECT … GROUP BY)", () =>
    sql`
      INSERT INTO stats_q (tenant_id, bucket, offer_id, publisher_id, advertiser_id, country, device, os, browser, sub1,
        verdict, currency, payout_currency, clicks, unique_clicks, pending_conversions, approved_conversions,
        rejected_conversions, revenue, payout)
      SELECT tenant_id, date_bin('15 minutes', ts, timestamptz 'epoch'), offer_id, publisher_id, advertiser_id, country,
        device, os, browser, sub1, verdict, currency, payout_currency, sum(c), sum(u), sum(p), sum(a), sum(rj),
        sum(rev), sum(pay)
      FROM (
        SELECT tenant_id, created_at AS ts, offer_id, coalesce(publisher_id, '') AS publisher_id,
          coalesce(advertiser_id, '') AS advertiser_id, coalesce(country, '') AS country, coalesce(device, '') AS device,
          coalesce(os, '') AS os, coalesce(browser, '') AS browser, coalesce(sub1, '') AS sub1, verdict,
          '' AS currency, '' AS payout_currency, 1 AS c,
          (ip_hash IS NULL OR row_number() OVER (PARTITION BY (created_at AT TIME ZONE 'UTC')::date, tracking_code, ip_hash
            ORDER BY created_at, click_id) = 1)::int AS u,
          0 AS p, 0 AS a, 0 AS rj, 0::numeric AS rev, 0::numeric AS pay
        FROM clicks
        UNION ALL
        SELECT v.tenant_id, v.created_at, v.offer_id, coalesce(v.publisher_id, ''), v.advertiser_id,
          coalesce(k.country, ''), coalesce(k.device, ''), coalesce(k.os, ''), coalesce(k.browser, ''),
          coalesce(k.sub1, ''), '', trim(v.currency), trim(v.payout_currency), 0, 0, (v.status = 'pending')::int,
          (v.status = 'approved')::int, (v.status = 'rejected')::int,
          CASE WHEN v.status = 'approved' THEN v.amount ELSE 0 END, CASE WHEN v.status = 'approved' THEN v.payout ELSE 0 END
        FROM conversions v LEFT JOIN clicks k ON k.click_id = v.click_id AND k.tenant_id = v.tenant_id
      ) x
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13`.execute(db),
  );
  await timed("stats_q key index", () =>
    sql`ALTER TABLE stats_q ADD PRIMARY KEY (tenant_id, bucket, offer_id, publisher_id, advertiser_id, country, device,
      os, browser, sub1, verdict, currency, payout_currency)`.execute(db),
  );
  await timed("daily tier from stats_q (rebuildDailyTier: one INSERT … SELECT … GROUP BY per table)", () =>
    Promise.all(rebuildDailyTier().map((statement) => statement.execute(db))),
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
  for (const table of ["stats_q", ...DAILY]) {
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
  await timed(`load ${CLICKS} clicks (INSERT … SELECT generate_series, indexes dropped)`, () =>
    loadClicks(db, tenant, "b", CLICKS, start),
  );
  await loadClicks(db, sample, "s", SAMPLE_CLICKS, start);
  await timed("rebuild the clicks' primary key and indexes", async () => {
    await sql`ALTER TABLE clicks ADD PRIMARY KEY (click_id, created_at)`.execute(db);
    await sql`CREATE INDEX clicks_offer_time ON clicks (tenant_id, offer_id, created_at)`.execute(db);
    await sql`CREATE INDEX clicks_code_time ON clicks (tracking_code, created_at)`.execute(db);
    await sql`CREATE INDEX clicks_tenant_time ON clicks (tenant_id, created_at, click_id)`.execute(db);
  });
  await timed(`load ${CONVERSIONS} conversions`, async () => {
    await loadConversions(db, tenant, "b", CLICKS, CONVERSIONS);
    await loadConversions(db, sample, "s", SAMPLE_CLICKS, Math.round(SAMPLE_CLICKS / 50));
  });
  await buildRollups(db);
  loadSeconds = (performance.now() - loadStart) / 1000;
  progress(`load and rollups: ${fmt(loadSeconds)} s`);

  // The check: the sample network's set-based rollups equal what the writers' statements produce.
  const setBased = await sampleRollups(db, sample);
  for (const table of ["stats_q", ...DAILY]) {
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
      if (e.query.sql.includes("json_agg")) captured = e.query;
    },
  });
  await queryStats(logged as never, caller, query);
  if (captured) {
    const plan = await pool.query(`EXPLAIN (ANALYZE) ${captured.sql}`, captured.parameters as unknown[]);
    for (const row of plan.rows as { "QUERY PLAN": string }[]) {
      const line = row["QUERY PLAN"];
      if (/Scan on (stats|clicks)|Planning|Execution/.test(line)) progress(`    ${line.trim()}`);
    }
  }
  await logged.destroy();
}

let loadSeconds = 0;
let sampleCheck = "";
const SAMPLE_CLICKS = Number(process.env.SAMPLE_CLICKS ?? 20_000);

// STATS_BENCH_DB=<url of a database an earlier run loaded> times the queries and ingest again
// without loading (a run that was cut short leaves its database behind).
const reuse = process.env.STATS_BENCH_DB;
await (reuse ? (fn: (url: string) => Promise<void>) => fn(reuse) : withTempDatabase)(async (databaseUrl) => {
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
    for (const table of ["stats_q", ...DAILY]) {
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
        name: "30 days by day, Asia/Kathmandu (stats_q)",
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
    for (const c of cases) {
      // stats_q cases read ~one row per click of the range: a few runs show their order of magnitude.
      const runs = c.name.includes("(stats_q)") ? Math.min(RUNS, 3) : RUNS;
      if (process.env.EXPLAIN === "1") await explain(databaseUrl, c.caller, c.query);
      const asSql = await time(runs, () => queryStats(db, c.caller, c.query));
      const e2e = await time(runs, async () => {
        const res = await fetch(`${stack.apiUrl}/api/stats?${c.url}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (res.status !== 200) throw new Error(`${c.url}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      });
      results.push(
        `  ${c.name.padEnd(48)} SQL p50 ${fmt(asSql.p50)} ms  p95 ${fmt(asSql.p95)} ms   HTTP p50 ${fmt(e2e.p50)} ms  p95 ${fmt(e2e.p95)} ms`,
      );
      progress(results[results.length - 1] as string);
    }

    // Consumer ingest: batches of 100 clicks, 2 concurrent writers, with the rollups (the real
    // statement) and without (the same insert and fraud events, no rollup CTEs), interleaved.
    let seq = 0;
    const batch = (): ClickEvent[] =>
      Array.from({ length: 100 }, () => {
        const i = seq++;
        const verdict = i % 10 === 0 ? "replay" : "valid";
        return {
          v: 1,
          click_id: newClickId(),
          created_at: Date.now(),
          tenant_id: tenant,
          tracking_code: `lnk_${i % LINKS}`,
          offer_id: `off_b${i % OFFERS}`,
          publisher_id: `pub_b${(i * 7) % PUBLISHERS}`,
          advertiser_id: `adv_b${(i % OFFERS) % 20}`,
          verdict,
          country: ["US", "DE", "IN"][i % 3] as string,
          device: "mobile",
          os: "Android",
          browser: "Chrome",
          ip_hash: `ingest-${i % 5000}`,
          sub1: `sub${i % 20}`,
          sub2: null,
          sub3: null,
          sub4: null,
          sub5: null,
          referer: null,
          source: "redirect",
        };
      });
    const bare = async (events: ClickEvent[]) => {
      await sql`
        WITH input AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(events)}::jsonb) AS t(
            click_id text, created_at bigint, tenant_id text, tracking_code text, offer_id text, publisher_id text,
            advertiser_id text, verdict text, source text, country text, device text, os text, browser text,
            ip_hash text, sub1 text)
        ), ins AS (
          INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, created_at,
            verdict, source, country, device, os, browser, ip_hash, sub1)
          SELECT click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
            to_timestamp(created_at / 1000.0), verdict, source, country, device, os, browser, ip_hash, sub1
          FROM input ON CONFLICT (click_id, created_at) DO NOTHING
          RETURNING click_id, tenant_id, tracking_code, offer_id, publisher_id, verdict, created_at, country
        ), fraud AS (
          INSERT INTO fraud_events (tenant_id, kind, click_id, tracking_code, offer_id, publisher_id, detail, created_at)
          SELECT tenant_id, verdict, click_id, tracking_code, offer_id, publisher_id, jsonb_build_object('country', country),
            created_at FROM ins WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[])
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
            clicks += 100;
          }
        }),
      );
      return { clicks, seconds: (Date.now() - started) / 1000 };
    };
    const acc = { with: { clicks: 0, seconds: 0 }, without: { clicks: 0, seconds: 0 } };
    for (let round = 0; round < 2; round++) {
      const a = await rate((e) => insertClickBatch(db, e), INGEST_SECONDS / 2);
      const b = await rate(bare, INGEST_SECONDS / 2);
      acc.with.clicks += a.clicks;
      acc.with.seconds += a.seconds;
      acc.without.clicks += b.clicks;
      acc.without.seconds += b.seconds;
    }
    const withRate = acc.with.clicks / acc.with.seconds;
    const withoutRate = acc.without.clicks / acc.without.seconds;

    // CSV export: the newest EXPORT_ROWS clicks' range, streamed through the API; the stack's RSS
    // (Node + workerd) sampled every 50 ms.
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

    console.log(
      `bench/stats: ${CLICKS} clicks, ${CONVERSIONS} conversions over ${DAYS} days, ${OFFERS} offers, ${PUBLISHERS} publishers, ${LINKS} links`,
    );
    for (const s of sizes.rows) console.log(`  ${s.t.padEnd(26)} ${s.rows.padStart(10)} rows  ${s.mb}`);
    console.log(`  load + set-based rollups: ${fmt(loadSeconds)} s; sample check: ${sampleCheck}`);
    console.log(`  clicks partitions: ${partitionSizes.rows[0]?.n} (${partitionSizes.rows[0]?.size})`);
    console.log(
      `dashboard queries (${RUNS} runs each; SQL = queryStats over node-postgres, HTTP = GET /api/stats via the local Neon HTTP endpoint):`,
    );
    for (const line of results) console.log(line);
    console.log(
      `consumer ingest (batches of 100, 2 writers, ${INGEST_SECONDS} s each): with rollups ${fmt(withRate, 0)} clicks/s, without ${fmt(withoutRate, 0)} clicks/s, ratio ${fmt(withRate / withoutRate, 2)}`,
    );
    console.log(
      `CSV export: ${lines - 1} rows, ${fmt(bytes / 1e6)} MB in ${fmt(exportSeconds)} s; stack RSS ${fmt(baseline / 1024)} MB before, peak ${fmt(peak / 1024)} MB (+${fmt((peak - baseline) / 1024)} MB)`,
    );
  } finally {
    await db.destroy();
    await stack.stop();
  }
});
