// Rollups (007-analytics) equal a recount of the raw rows after a mixed workload: valid, fraud and
// bot clicks with repeat visitors, batches delivered again (whole and overlapping), conversions of
// every status on those clicks and status changes (approve, reject, reversal). The writers under
// test are the real ones (the consumer's batch statement, the conversion insert and status change).

import { type ClickEvent, newClickId, newId, type Verdict } from "@afftrack/core";
import { changeConversionStatus, insertClickBatch, insertConversion } from "@afftrack/db";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, type Network } from "./management-helpers";
import { type SharedTestStack, sharedStack } from "./support";

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
    // Batches of 50, each delivered, then every second one again, then overlapping halves.
    for (let i = 0; i < clicks.length; i += 50) await insertClickBatch(stack.db, clicks.slice(i, i + 50));
    for (let i = 0; i < clicks.length; i += 100) await insertClickBatch(stack.db, clicks.slice(i, i + 50));
    await Promise.all([
      insertClickBatch(stack.db, clicks.slice(25, 225)),
      insertClickBatch(stack.db, clicks.slice(175, 400)),
    ]);

    // Conversions on 60 of the clicks (and 5 unattributed), in three statuses and two currencies.
    const conversionIds: string[] = [];
    for (let i = 0; i < 65; i++) {
      const click = i < 60 ? clicks[i * 6] : undefined;
      const id = newId("conv");
      const status = pick(r, ["pending", "approved", "rejected"] as const);
      const currency = i % 4 === 0 ? "EUR" : "USD";
      await insertConversion(stack.db, {
        id,
        tenant_id: net.tenant_id,
        advertiser_id: net.advertiser_id,
        offer_id: net.offer_id,
        transaction_id: `tx-${id}`,
        click_id: click?.click_id ?? null,
        publisher_id: click ? net.publisher_id : null,
        tracking_code: click?.tracking_code ?? null,
        click_verdict: click?.verdict ?? null,
        reported_click_id: null,
        attribution: click ? "click" : "no_click",
        status,
        amount: (10 + i * 0.0125).toFixed(4),
        currency,
        payout: (1 + i * 0.5).toFixed(4),
        payout_currency: currency,
        revenue_in_rollup: true,
        payout_in_rollup: true,
        source: "postback",
        api_key_id: null,
        user_id: null,
        device_info: null,
        custom_params: null,
        metadata: null,
        sdk_version: null,
        sdk_platform: null,
      });
      conversionIds.push(id);
    }
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

    // The hourly table is the 15-minute one summed per hour over its dimensions.
    const mismatch = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM (
        SELECT date_bin('1 hour', bucket, timestamptz 'epoch') AS bucket, offer_id, publisher_id, country, verdict,
          currency, payout_currency, sum(clicks) AS clicks, sum(unique_clicks) AS u, sum(approved_conversions) AS a,
          sum(pending_conversions) AS p, sum(rejected_conversions) AS rj, sum(revenue) AS rev, sum(payout) AS pay
        FROM stats_q WHERE tenant_id = ${net.tenant_id} GROUP BY 1, 2, 3, 4, 5, 6, 7
        EXCEPT
        SELECT bucket, offer_id, publisher_id, country, verdict, currency, payout_currency, clicks::numeric,
          unique_clicks::numeric, approved_conversions::numeric, pending_conversions::numeric,
          rejected_conversions::numeric, revenue, payout
        FROM stats_h WHERE tenant_id = ${net.tenant_id}) d`.execute(stack.db);
    expect(mismatch.rows[0]?.n).toBe(0);

    // The live per-minute counters hold the same click total.
    const live = await sql<{ n: number }>`
      SELECT sum(clicks)::int AS n FROM stats_live WHERE tenant_id = ${net.tenant_id}`.execute(stack.db);
    expect(live.rows[0]?.n).toBe(400);
  }, 60_000);
});
