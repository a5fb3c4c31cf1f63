// Rollups (007-analytics) equal a recount of the raw rows after a mixed workload: valid, fraud and
// bot clicks with repeat visitors, batches delivered again (whole and overlapping), conversions of
// every status on those clicks, conversions recorded before their click is written, and status
// changes (approve, reject, reversal). The writers under
// test are the real ones (the consumer's batch statement, the conversion insert and status change).

import { type ClickEvent, newClickId, newId, type StatsQueryInput, type Verdict } from "@afftrack/core";
import {
  changeConversionStatus,
  insertClickBatch,
  insertConversion,
  queryStats,
  updateNetworkTimezone,
} from "@afftrack/db";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, type Network } from "./management-helpers";
import { conversionRowOn, type SharedTestStack, sharedStack } from "./support";

let stack: SharedTestStack;
let net: Network;

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Rollups");
});
afterAll(() => stack.close());

const VERDICTS: Verdict[] = ["valid", "valid", "valid", "legacy", "expired", "replay", "bot", "duplicate"];
const COUNTRIES = ["US", "DE", "NP", null];
const DEVICES = ["desktop", "mobile", null];

/** A deterministic pseudo-random sequence, so a failure replays. */
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

describe("rollups", () => {
  it("equal a recount of raw clicks and conversions after redeliveries and status changes", async () => {
    const r = rng(42);
    const base = Date.UTC(2025, 5, 30, 22, 0); // two UTC days, across midnight
    // The network's zone (the daily tier's days): Lagos (+01:00) cuts the days an hour before UTC.
    await sql`UPDATE tenants SET timezone = 'Africa/Lagos' WHERE id = ${net.tenant_id}`.execute(stack.db);
    const codes = ["code_a", "code_b"];
    const clicks: ClickEvent[] = Array.from({ length: 400 }, () => ({
      v: 1,
      click_id: newClickId(),
      created_at: base + Math.floor(r() * 4 * 3_600_000),
      tenant_id: net.tenant_id,
      tracking_code: pick(r, codes),
      offer_id: net.offer_id,
      publisher_id: net.publisher_id,
      advertiser_id: net.advertiser_id,
      verdict: pick(r, VERDICTS),
      country: pick(r, COUNTRIES),
      device: pick(r, DEVICES),
      os: "Android",
      browser: "Chrome",
      // 30 visitors: many repeat clicks, some without a hash
      ip_hash: r() < 0.1 ? null : `visitor-${Math.floor(r() * 30)}`,
      sub1: pick(r, ["s1", "s2", null]),
      sub2: null,
      sub3: null,
      sub4: null,
      sub5: null,
      referer: null,
      source: "redirect",
    }));
    // The last 8 clicks are still queued when their conversions arrive (written further down).
    const early = clicks.slice(0, 392);
    const late = clicks.slice(392);
    // Batches of 50, each delivered, then every second one again, then overlapping halves.
    for (let i = 0; i < early.length; i += 50) await insertClickBatch(stack.db, early.slice(i, i + 50));
    for (let i = 0; i < early.length; i += 100) await insertClickBatch(stack.db, early.slice(i, i + 50));
    await Promise.all([
      insertClickBatch(stack.db, early.slice(25, 225)),
      insertClickBatch(stack.db, early.slice(175, 392)),
    ]);

    // Conversions on 60 of the clicks (and 5 unattributed), in three statuses and two currencies.
    const conversionIds: string[] = [];
    for (let i = 0; i < 65; i++) {
      const click = i < 60 ? clicks[i * 6] : undefined;
      const id = newId("conv");
      const status = pick(r, ["pending", "approved", "rejected"] as const);
      const currency = i % 4 === 0 ? "EUR" : "USD";
      await insertConversion(
        stack.db,
        conversionRowOn(net, click ?? null, {
          id,
          status,
          amount: (10 + i * 0.0125).toFixed(4),
          currency,
          payout: (1 + i * 0.5).toFixed(4),
          payout_currency: currency,
        }),
      );
      conversionIds.push(id);
    }
    // Conversions recorded before their click is written (counted without the click's dimensions),
    // then the clicks land (delivered twice): the counters move onto the clicks' dimensions once.
    for (const [i, click] of late.entries()) {
      const id = newId("conv");
      await insertConversion(
        stack.db,
        conversionRowOn(net, click, {
          id,
          status: i % 2 === 0 ? "pending" : "approved",
          amount: (20 + i).toFixed(4),
          currency: "USD",
          payout: (2 + i).toFixed(4),
          payout_currency: "USD",
        }),
      );
      conversionIds.push(id);
    }
    await insertClickBatch(stack.db, late);
    await insertClickBatch(stack.db, late);

    // Status changes: approve the pending ones, then reverse every third approved one.
    const rows = await stack.db
      .selectFrom("conversions")
      .select(["id", "status"])
      .where("tenant_id", "=", net.tenant_id)
      .execute();
    for (const row of rows) {
      if (row.status === "pending") {
        await changeConversionStatus(stack.db, {
          advertiserId: net.advertiser_id,
          conversionId: row.id,
          to: "approved",
          source: "api",
          clientIp: null,
        });
      }
    }
    for (const [i, id] of conversionIds.entries()) {
      if (i % 3 === 0) {
        await changeConversionStatus(stack.db, {
          advertiserId: net.advertiser_id,
          conversionId: id,
          to: "rejected",
          source: "api",
          clientIp: null,
        });
      }
    }

    // Clicks: stats_q per (15-minute bucket, every dimension) = the raw rows grouped alike.
    const fromRollup = await sql<Record<string, unknown>>`
      SELECT bucket, offer_id, publisher_id, country, device, os, browser, sub1, verdict,
        sum(clicks)::int AS clicks
      FROM stats_q WHERE tenant_id = ${net.tenant_id} AND verdict <> ''
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 HAVING sum(clicks) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`.execute(
      stack.db,
    );
    const recount = await sql<Record<string, unknown>>`
      SELECT date_bin('15 minutes', created_at, timestamptz 'epoch') AS bucket, offer_id, publisher_id,
        coalesce(country, '') AS country, coalesce(device, '') AS device, coalesce(os, '') AS os,
        coalesce(browser, '') AS browser, coalesce(sub1, '') AS sub1, verdict, count(*)::int AS clicks
      FROM clicks WHERE tenant_id = ${net.tenant_id}
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`.execute(stack.db);
    expect(recount.rows.length).toBeGreaterThan(50);
    expect(fromRollup.rows).toEqual(recount.rows);

    // Unique clicks: one per (UTC day, link, visitor), plus every click without a visitor hash.
    const uniques = await sql<{ rollup: number; recount: number }>`
      SELECT (SELECT sum(unique_clicks)::int FROM stats_q WHERE tenant_id = ${net.tenant_id}) AS rollup,
        (SELECT (count(DISTINCT ((created_at AT TIME ZONE 'UTC')::date, tracking_code, ip_hash))
           FILTER (WHERE ip_hash IS NOT NULL) + count(*) FILTER (WHERE ip_hash IS NULL))::int
         FROM clicks WHERE tenant_id = ${net.tenant_id}) AS recount`.execute(stack.db);
    expect(uniques.rows[0]?.rollup).toBe(uniques.rows[0]?.recount);
    expect(uniques.rows[0]?.rollup).toBeLessThan(400);

    // Conversions: counters per status and money per currency, by bucket and the click's dimensions.
    const convRollup = await sql<Record<string, unknown>>`
      SELECT bucket, publisher_id, country, device, sub1, currency,
        sum(pending_conversions)::int AS pending, sum(approved_conversions)::int AS approved,
        sum(rejected_conversions)::int AS rejected, sum(revenue)::text AS revenue, sum(payout)::text AS payout
      FROM stats_q WHERE tenant_id = ${net.tenant_id} AND verdict = ''
      GROUP BY 1, 2, 3, 4, 5, 6
      HAVING sum(pending_conversions) <> 0 OR sum(approved_conversions) <> 0 OR sum(rejected_conversions) <> 0
      ORDER BY 1, 2, 3, 4, 5, 6`.execute(stack.db);
    const convRecount = await sql<Record<string, unknown>>`
      SELECT date_bin('15 minutes', v.created_at, timestamptz 'epoch') AS bucket, coalesce(v.publisher_id, '') AS publisher_id,
        coalesce(k.country, '') AS country, coalesce(k.device, '') AS device, coalesce(k.sub1, '') AS sub1,
        trim(v.currency) AS currency,
        count(*) FILTER (WHERE v.status = 'pending')::int AS pending,
        count(*) FILTER (WHERE v.status = 'approved')::int AS approved,
        count(*) FILTER (WHERE v.status = 'rejected')::int AS rejected,
        coalesce(sum(v.amount) FILTER (WHERE v.status = 'approved'), 0)::numeric(20, 4)::text AS revenue,
        coalesce(sum(v.payout) FILTER (WHERE v.status = 'approved'), 0)::numeric(20, 4)::text AS payout
      FROM conversions v LEFT JOIN clicks k ON k.click_id = v.click_id
      WHERE v.tenant_id = ${net.tenant_id}
      GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`.execute(stack.db);
    expect(convRecount.rows.length).toBeGreaterThan(5);
    expect(convRollup.rows).toEqual(convRecount.rows);

    // The daily tier (every table) is stats_q summed per local day of the network's zone, with the
    // verdicts folded into columns; after a zone change (Kathmandu, +05:45) it is rebuilt to match.
    await expectDailyTierMatches("Africa/Lagos");
    const days = await sql<{ day: string }>`
      SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM stats_day WHERE dim = 1 AND tenant_id = ${net.tenant_id}
        AND day < '2026-01-01'
      ORDER BY 1`.execute(stack.db);
    expect(days.rows.map((d) => d.day)).toEqual(["2025-06-30", "2025-07-01"]);
    await updateNetworkTimezone(stack.db, net.tenant_id, "Asia/Kathmandu");
    await expectDailyTierMatches("Asia/Kathmandu");
    const after = await sql<{ day: string }>`
      SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM stats_day WHERE dim = 1 AND tenant_id = ${net.tenant_id}
        AND day < '2026-01-01'
      ORDER BY 1`.execute(stack.db);
    expect(after.rows.map((d) => d.day)).toEqual(["2025-07-01"]);

    // The network totals: stats_q summed per bucket and currency pair, verdicts folded.
    const totals = await sql<Record<string, unknown>>`
      SELECT bucket, currency, payout_currency, clicks, unique_clicks, valid_clicks, fraud_clicks, bot_clicks,
        bot_unique_clicks, pending_conversions, approved_conversions, rejected_conversions, revenue::text, payout::text
      FROM stats_total WHERE tenant_id = ${net.tenant_id}
        AND (clicks <> 0 OR pending_conversions <> 0 OR approved_conversions <> 0 OR rejected_conversions <> 0)
      ORDER BY 1, 2, 3`.execute(stack.db);
    const totalsRecount = await sql<Record<string, unknown>>`
      SELECT bucket, currency, payout_currency, sum(clicks)::int AS clicks, sum(unique_clicks)::int AS unique_clicks,
        coalesce(sum(clicks) FILTER (WHERE verdict IN ('valid', 'legacy')), 0)::int AS valid_clicks,
        coalesce(sum(clicks) FILTER (WHERE verdict IN ('expired', 'replay', 'invalid_signature', 'geo_blocked',
          'datacenter', 'frequency_cap')), 0)::int AS fraud_clicks,
        coalesce(sum(clicks) FILTER (WHERE verdict = 'bot'), 0)::int AS bot_clicks,
        coalesce(sum(unique_clicks) FILTER (WHERE verdict = 'bot'), 0)::int AS bot_unique_clicks,
        sum(pending_conversions)::int AS pending_conversions, sum(approved_conversions)::int AS approved_conversions,
        sum(rejected_conversions)::int AS rejected_conversions, sum(revenue)::text AS revenue, sum(payout)::text AS payout
      FROM stats_q WHERE tenant_id = ${net.tenant_id}
      GROUP BY 1, 2, 3
      HAVING sum(clicks) <> 0 OR sum(pending_conversions) <> 0 OR sum(approved_conversions) <> 0
        OR sum(rejected_conversions) <> 0
      ORDER BY 1, 2, 3`.execute(stack.db);
    expect(totalsRecount.rows.length).toBeGreaterThan(10);
    expect(totals.rows).toEqual(totalsRecount.rows);

    // The live per-minute counters hold the same click total.
    const live = await sql<{ n: number }>`
      SELECT sum(clicks)::int AS n FROM stats_live WHERE tenant_id = ${net.tenant_id}`.execute(stack.db);
    expect(live.rows[0]?.n).toBe(400);

    // GET /api/stats answers the same from the daily tier and the network totals as from stats_q
    // alone, for the common queries and every role (the daily tier reads whole days; the range's
    // edges come from stats_q, or stats_total when no dimension is needed).
    const admin = {
      tenant_id: net.tenant_id,
      role: "network_admin" as const,
      advertiser_id: null,
      publisher_id: null,
    };
    const adv = { ...admin, role: "advertiser" as const, advertiser_id: net.advertiser_id };
    const pub = { ...admin, role: "publisher" as const, publisher_id: net.publisher_id };
    const q = (over: Partial<StatsQueryInput>): StatsQueryInput => ({
      group_by: [],
      include_bots: false,
      ...over,
    });
    const cases: [typeof admin | typeof adv | typeof pub, StatsQueryInput][] = [
      [admin, q({ from: "2025-06-30", to: "2025-07-01", group_by: ["day"] })],
      [admin, q({ from: "2025-06-30T23:00:00Z", to: "2025-07-01T01:30:00Z", group_by: ["offer"] })],
      [admin, q({ from: "2025-06-29", to: "2025-07-02", group_by: ["publisher"], include_bots: true })],
      [
        admin,
        q({
          from: "2025-06-01",
          to: "2025-07-31",
          group_by: ["country", "month"],
          country: { include: [], exclude: ["DE"] },
        }),
      ],
      [adv, q({ from: "2025-06-30", to: "2025-07-01", group_by: ["week", "publisher"] })],
      [pub, q({ from: "2025-06-30", to: "2025-07-01", group_by: ["day", "offer"] })],
      [admin, q({ interval: "mtd", compare: "previous_period" })],
      [admin, q({ interval: "7d", group_by: ["day"] })],
      // Network totals (stats_total): no dimension, another zone or hours.
      [admin, q({ from: "2025-06-30T23:00:00Z", to: "2025-07-01T01:30:00Z", group_by: ["hour"] })],
      [
        admin,
        q({ interval: "7d", group_by: ["day"], timezone: "America/New_York", compare: "previous_period" }),
      ],
      [
        admin,
        q({
          from: "2025-06-30",
          to: "2025-07-01",
          group_by: ["day"],
          timezone: "Australia/Adelaide",
          include_bots: true,
        }),
      ],
    ];
    const now = new Date("2025-07-01T02:10:00Z");
    for (const [caller, query] of cases) {
      const daily = await queryStats(stack.db, caller, query, { now });
      const fine = await queryStats(stack.db, caller, query, { now, tier: "fine" });
      expect(daily).toEqual(fine);
    }
    const all = await queryStats(stack.db, admin, q({ from: "2025-06-30", to: "2025-07-01" }), { now });
    expect(all.totals.clicks).toBe(400 - VERDICT_BOTS(clicks));
  }, 60_000);
});

function VERDICT_BOTS(clicks: ClickEvent[]): number {
  return clicks.filter((c) => c.verdict === "bot").length;
}

/** Each dimension of the daily tier (stats_day) equals stats_q summed per local day of `zone` over its keys (non-zero rows). */
async function expectDailyTierMatches(zone: string): Promise<void> {
  const tables: [number, string[]][] = [
    [1, ["country"]],
    [2, ["offer_id", "advertiser_id"]],
    [3, ["publisher_id"]],
    [4, ["offer_id", "publisher_id", "advertiser_id"]],
  ];
  const counted = "('valid', 'legacy')";
  const fraud = "('expired', 'replay', 'invalid_signature', 'geo_blocked', 'datacenter', 'frequency_cap')";
  for (const [dim, keys] of tables) {
    const k = keys.join(", ");
    const measures = `clicks, unique_clicks, valid_clicks, fraud_clicks, bot_clicks, bot_unique_clicks,
      pending_conversions, approved_conversions, rejected_conversions, revenue::text, payout::text`;
    const tier = await sql<Record<string, unknown>>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, ${sql.raw(k)}, currency, payout_currency, ${sql.raw(measures)}
      FROM stats_day WHERE tenant_id = ${net.tenant_id} AND dim = ${dim}
        AND (clicks <> 0 OR pending_conversions <> 0 OR approved_conversions <> 0 OR rejected_conversions <> 0)
      ORDER BY 1, ${sql.raw(k)}, currency, payout_currency`.execute(stack.db);
    const recount = await sql<Record<string, unknown>>`
      SELECT to_char((bucket AT TIME ZONE ${zone})::date, 'YYYY-MM-DD') AS day, ${sql.raw(k)}, currency, payout_currency,
        sum(clicks)::int AS clicks, sum(unique_clicks)::int AS unique_clicks,
        coalesce(sum(clicks) FILTER (WHERE verdict IN ${sql.raw(counted)}), 0)::int AS valid_clicks,
        coalesce(sum(clicks) FILTER (WHERE verdict IN ${sql.raw(fraud)}), 0)::int AS fraud_clicks,
        coalesce(sum(clicks) FILTER (WHERE verdict = 'bot'), 0)::int AS bot_clicks,
        coalesce(sum(unique_clicks) FILTER (WHERE verdict = 'bot'), 0)::int AS bot_unique_clicks,
        sum(pending_conversions)::int AS pending_conversions, sum(approved_conversions)::int AS approved_conversions,
        sum(rejected_conversions)::int AS rejected_conversions, sum(revenue)::text AS revenue, sum(payout)::text AS payout
      FROM stats_q WHERE tenant_id = ${net.tenant_id}
      GROUP BY 1, ${sql.raw(k)}, currency, payout_currency
      HAVING sum(clicks) <> 0 OR sum(pending_conversions) <> 0 OR sum(approved_conversions) <> 0
        OR sum(rejected_conversions) <> 0
      ORDER BY 1, ${sql.raw(k)}, currency, payout_currency`.execute(stack.db);
    expect(recount.rows.length).toBeGreaterThan(1);
    expect(tier.rows).toEqual(recount.rows);
  }
}
