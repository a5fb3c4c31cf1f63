// bench/stats: dashboard queries over the rollups at scale, as SQL and end to end through
// GET /api/stats, the clicks consumer's ingest rate with and without rollups (a ratio, same run),
// and the peak memory of a streamed CSV export.
//
// Data: one network with 20 advertisers, OFFERS offers and PUBLISHERS publishers, LINKS tracking
// links (skewed: a few links carry most traffic), CLICKS clicks spread evenly over the last 90
// days (85 % valid, 5 % duplicate, 3 % bot, 7 % fraud verdicts; 12 countries, 3 devices, 4 OSes,
// 4 browsers, 20 sub1 values; visitors repeat so unique < gross), and CONVERSIONS conversions on
// every (CLICKS / CONVERSIONS)-th click (70 % approved, 20 % pending, 10 % rejected; USD and EUR).
// Loaded with INSERT … SELECT generate_series into the partitioned clicks table (no API), then
// rolled up by the writers' own statements (backfillClickRollups, conversionRollupRows) day by day.
//
//   pnpm bench:stats            (CLICKS=10000000 CONVERSIONS=200000 RUNS=30 INGEST_SECONDS=8 to change)

import { type ClickEvent, FRAUD_VERDICTS, newClickId, type StatsQueryInput } from "@afftrack/core";
import {
  addToRollups,
  backfillClickRollups,
  type CallerScope,
  conversionRollupRows,
  ensureClickPartition,
  insertClickBatch,
  queryStats,
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

async function load(db: Kysely<never>, tenant: string, end: Date): Promise<void> {
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
  const chunk = 500_000;
  await timed(`load ${CLICKS} clicks (INSERT … SELECT generate_series)`, async () => {
    for (let a = 0; a < CLICKS; a += chunk) {
      const b = Math.min(CLICKS, a + chunk) - 1;
      await sql`
        INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, created_at,
          verdict, source, country, device, os, browser, ip_hash, sub1)
        SELECT 'clk_b' || g, ${tenant}, 'lnk_' || x.l, 'off_b' || (x.l % ${OFFERS}), 'pub_b' || ((x.l * 7) % ${PUBLISHERS}),
          'adv_b' || ((x.l % ${OFFERS}) % 20),
          ${start.toISOString()}::timestamptz + (g::float8 / ${CLICKS}) * interval '${sql.raw(String(DAYS))} days',
          CASE WHEN x.r < 0.85 THEN 'valid' WHEN x.r < 0.90 THEN 'duplicate' WHEN x.r < 0.93 THEN 'bot'
            WHEN x.r < 0.96 THEN 'expired' WHEN x.r < 0.98 THEN 'replay' ELSE 'geo_blocked' END,
          'redirect',
          (ARRAY['US','US','US','GB','DE','FR','IN','BR','CA','AU','NP','JP'])[1 + (x.r2 * 12)::int % 12],
          (ARRAY['desktop','mobile','tablet'])[1 + (x.r3 * 3)::int % 3],
          (ARRAY['Windows','Android','iOS','macOS'])[1 + (x.r2 * 97)::int % 4],
          (ARRAY['Chrome','Safari','Firefox','Edge'])[1 + (x.r3 * 89)::int % 4],
          'v' || ((x.r4 * ${Math.max(1, Math.round(CLICKS / 3))})::bigint),
          'sub' || ((x.r4 * 20)::int)
        FROM generate_series(${a}::bigint, ${b}::bigint) g,
          LATERAL (SELECT floor(${LINKS} * power(random() + g * 0, 2))::int AS l, random() AS r, random() AS r2,
            random() AS r3, random() AS r4) x
      `.execute(db);
      progress(`  ${b + 1} clicks`);
    }
  });
  await timed("roll up the clicks day by day (the consumer's statement)", async () => {
    for (let d = 0; d <= DAYS; d++) {
      const from = new Date(start.getTime() + d * 86_400_000);
      await backfillClickRollups(db as never, {
        from,
        to: new Date(from.getTime() + 86_400_000),
        tenantId: tenant,
      });
    }
  });
  const every = Math.max(1, Math.floor(CLICKS / CONVERSIONS));
  await timed(`load ${CONVERSIONS} conversions and roll them up`, async () => {
    await sql`
      INSERT INTO conversions (id, tenant_id, advertiser_id, offer_id, transaction_id, click_id, publisher_id,
        tracking_code, click_verdict, attribution, status, amount, currency, payout, payout_currency,
        revenue_in_rollup, payout_in_rollup, source, created_at, updated_at)
      SELECT 'conv_b' || g, k.tenant_id, k.advertiser_id, k.offer_id, 'tx' || g, k.click_id, k.publisher_id,
        k.tracking_code, k.verdict, 'click',
        CASE WHEN g % 10 < 7 THEN 'approved' WHEN g % 10 < 9 THEN 'pending' ELSE 'rejected' END,
        10 + (g % 90), CASE WHEN g % 10 = 3 THEN 'EUR' ELSE 'USD' END, 1 + (g % 9),
        CASE WHEN g % 10 = 3 THEN 'EUR' ELSE 'USD' END, true, true, 'postback',
        least(k.created_at + interval '1 hour', now()), least(k.created_at + interval '1 hour', now())
      FROM generate_series(0, ${CONVERSIONS - 1}) g
      JOIN clicks k ON k.click_id = 'clk_b' || (g * ${every}) AND k.tenant_id = ${tenant}
    `.execute(db);
    // One statement for all of them: the conversion writer's own rollup rows (its click's dimensions).
    await addToRollups(
      conversionRollupRows(sql`(SELECT * FROM conversions WHERE tenant_id = ${tenant})`),
    ).execute(db);
  });
  await sql`ANALYZE`.execute(db);
}

await withTempDatabase(async (databaseUrl) => {
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
    const reg = await fetch(`${stack.apiUrl}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        network_name: "Bench",
        email: "bench@example.test",
        password: "s3cret-passw0rd",
        name: "B",
      }),
    });
    const session = (await reg.json()) as { data: { access_token: string; user: { tenant_id: string } } };
    const token = session.data.access_token;
    const tenant = session.data.user.tenant_id;
    const now = new Date();
    await load(db as never, tenant, now);

    const sizes = await sql<{ t: string; rows: string; mb: string }>`
      SELECT t, (SELECT count(*) FROM stats_q WHERE tenant_id = ${tenant})::text AS rows,
        pg_size_pretty(pg_total_relation_size('stats_q')) AS mb FROM (VALUES ('stats_q')) v(t)
      UNION ALL SELECT 'stats_h', (SELECT count(*) FROM stats_h WHERE tenant_id = ${tenant})::text,
        pg_size_pretty(pg_total_relation_size('stats_h'))
      UNION ALL SELECT 'clicks', (SELECT count(*) FROM clicks)::text, pg_size_pretty(pg_total_relation_size('clicks'))
    `.execute(db);
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
      timezone: "UTC",
      group_by: [],
      include_bots: false,
      ...over,
    });
    const cases: { name: string; caller: CallerScope; query: StatsQueryInput; url: string }[] = [
      {
        name: "30 days by day",
        caller: admin,
        query: q({ interval: "30d", group_by: ["day"] }),
        url: "interval=30d&group_by=day&timezone=UTC",
      },
      {
        name: "30 days by offer",
        caller: admin,
        query: q({ interval: "30d", group_by: ["offer"] }),
        url: "interval=30d&group_by=offer&timezone=UTC",
      },
      {
        name: "30 days by publisher",
        caller: admin,
        query: q({ interval: "30d", group_by: ["publisher"] }),
        url: "interval=30d&group_by=publisher&timezone=UTC",
      },
      {
        name: "30 days by country",
        caller: admin,
        query: q({ interval: "30d", group_by: ["country"] }),
        url: "interval=30d&group_by=country&timezone=UTC",
      },
      {
        name: "this month vs last month",
        caller: admin,
        query: q({ interval: "mtd", compare: "previous_period" }),
        url: "interval=mtd&compare=previous_period&timezone=UTC",
      },
      {
        name: "a publisher's own view (30d by day)",
        caller: pub,
        query: q({ interval: "30d", group_by: ["day"] }),
        url: "interval=30d&group_by=day&timezone=UTC&publisher_id=pub_b7",
      },
      {
        name: "30 days by day, Asia/Kathmandu (15-min table)",
        caller: admin,
        query: q({ interval: "30d", group_by: ["day"], timezone: "Asia/Kathmandu" }),
        url: "interval=30d&group_by=day&timezone=Asia/Kathmandu",
      },
      {
        name: "30 days by sub1 (15-min table)",
        caller: admin,
        query: q({ interval: "30d", group_by: ["sub1"] }),
        url: "interval=30d&group_by=sub1&timezone=UTC",
      },
    ];
    const results: string[] = [];
    for (const c of cases) {
      const asSql = await time(RUNS, () => queryStats(db, c.caller, c.query));
      const e2e = await time(RUNS, async () => {
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
    for (const s of sizes.rows) console.log(`  ${s.t.padEnd(8)} ${s.rows.padStart(10)} rows  ${s.mb}`);
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
