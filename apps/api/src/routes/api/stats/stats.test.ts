// GET /api/stats over HTTP: local days across a DST change in a 30-minute zone (Adelaide), week and
// month boundaries, a 45-minute zone's hours, filters and exclusions, compare, role scoping for each
// role and other networks, the network's time zone setting, refusals; and GET /api/stats/live.

import type { ClickEvent } from "@afftrack/core";
import { insertClickBatch, insertConversion, queryStats } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, type Network } from "../../../../../../tests/management-helpers";
import {
  clickEvent,
  conversionRowOn,
  type SharedTestStack,
  sharedStack,
} from "../../../../../../tests/support";

let stack: SharedTestStack;
let net: Network;
let other: Network;
let publisher2: string;
let offer2: string;
let advertiser2: string;

function click(n: Network, at: string, extra: Partial<ClickEvent> = {}): ClickEvent {
  return clickEvent({ ...n, tracking_code: "code_1" }, { created_at: Date.parse(at), ...extra });
}

async function conversion(
  n: Network,
  c: ClickEvent,
  status: "approved" | "pending",
  amount: string,
  payout: string,
) {
  await insertConversion(stack.db, conversionRowOn(n, c, { status, amount, payout }));
}

const stats = (token: string, query: string) => call(stack, "GET", `/api/stats?${query}`, { token });

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Stats");
  other = await buildNetwork(stack, "Other");
  const pub = await call(stack, "POST", "/api/publishers", {
    token: net.adminToken,
    body: { name: "Second pub" },
  });
  publisher2 = pub.body.data.id;
  const adv = await call(stack, "POST", "/api/advertisers", {
    token: net.adminToken,
    body: { name: "Second adv" },
  });
  advertiser2 = adv.body.data.id;
  const offer = await call(stack, "POST", "/api/offers", {
    token: net.adminToken,
    body: {
      advertiser_id: advertiser2,
      name: "Second offer",
      destination_url: "https://example.com/?c={click_id}",
      payout_type: "cpa",
      payout_amount: 1,
      currency: "USD",
    },
  });
  offer2 = offer.body.data.id;
  // Adelaide's DST starts 2025-10-05 02:00 ACST (+09:30) → 03:00 ACDT (+10:30): that local day
  // runs from 2025-10-04T14:30Z to 2025-10-05T13:30Z (23 hours).
  await insertClickBatch(stack.db, [
    click(net, "2025-10-04T14:20:00Z"), // Oct 4, 23:50 ACST
    click(net, "2025-10-04T14:35:00Z", { country: "DE" }), // Oct 5, 00:05 ACST
    click(net, "2025-10-05T13:20:00Z", { device: "mobile", sub1: "a" }), // Oct 5, 23:50 ACDT
    click(net, "2025-10-05T13:40:00Z", { sub1: "b" }), // Oct 6, 00:10 ACDT
    click(net, "2025-10-05T10:00:00Z", { verdict: "bot" }), // Oct 5, bot
    click(net, "2025-10-05T11:00:00Z", { verdict: "expired" }), // Oct 5, fraud
  ]);
  // Week and month boundaries (UTC): Sunday 2025-03-30 / Monday 2025-03-31, March / April.
  await insertClickBatch(stack.db, [
    click(net, "2025-03-30T23:59:00Z"),
    click(net, "2025-03-31T00:01:00Z"),
    click(net, "2025-03-31T23:59:00Z"),
    click(net, "2025-04-01T00:00:00Z"),
  ]);
  // Second publisher on the first offer, first publisher on the second advertiser's offer (Jan 2025).
  await insertClickBatch(stack.db, [
    click(net, "2025-01-10T10:00:00Z", { publisher_id: publisher2 }),
    click(net, "2025-01-10T10:00:00Z", { publisher_id: publisher2 }),
    click(net, "2025-01-10T11:00:00Z", { offer_id: offer2, advertiser_id: advertiser2 }),
    click(net, "2025-01-10T12:00:00Z"),
  ]);
  // The other network, same days.
  await insertClickBatch(stack.db, [
    click(other, "2025-01-10T10:00:00Z"),
    click(other, "2025-10-05T00:00:00Z"),
  ]);
  // Conversions now (created_at = now): one approved per publisher, one pending.
  const c1 = click(net, new Date().toISOString());
  const c2 = click(net, new Date().toISOString(), { publisher_id: publisher2 });
  await insertClickBatch(stack.db, [c1, c2]);
  await conversion(net, c1, "approved", "40.0000", "4.0000");
  await conversion(net, c2, "approved", "25.5000", "2.5000");
  await conversion(net, c1, "pending", "10.0000", "1.0000");
});
afterAll(() => stack.close());

describe("GET /api/stats", () => {
  it("groups local days across Adelaide's DST change (a 30-minute zone, 23-hour day)", async () => {
    const res = await stats(
      net.adminToken,
      "from=2025-10-04&to=2025-10-06&timezone=Australia/Adelaide&group_by=day",
    );
    expect(res.status, res.text).toBe(200);
    const rows = res.body.data.rows.map((r: { day: string; clicks: number }) => [r.day, r.clicks]);
    expect(rows).toEqual([
      ["2025-10-04", 1],
      ["2025-10-05", 3],
      ["2025-10-06", 1],
    ]);
    expect(res.body.data.from).toBe("2025-10-03T14:30:00Z");
    expect(res.body.data.to).toBe("2025-10-06T13:30:00Z");
    expect(res.body.data.totals).toMatchObject({ clicks: 5, valid_clicks: 4, fraud_clicks: 1 });
    // Bots shown when asked.
    const bots = await stats(
      net.adminToken,
      "from=2025-10-05&to=2025-10-05&timezone=Australia/Adelaide&include_bots=true",
    );
    expect(bots.body.data.totals.clicks).toBe(4);
    // The same instants in UTC days.
    const utc = await stats(net.adminToken, "from=2025-10-04&to=2025-10-05&timezone=UTC&group_by=day");
    expect(utc.body.data.rows.map((r: { day: string; clicks: number }) => [r.day, r.clicks])).toEqual([
      ["2025-10-04", 2],
      ["2025-10-05", 3],
    ]);
  });

  it("names hours with their local offset, including a 45-minute zone", async () => {
    const res = await stats(
      net.adminToken,
      "from=2025-10-05&to=2025-10-05&timezone=Asia/Kathmandu&group_by=hour",
    );
    expect(res.status, res.text).toBe(200);
    // 13:20Z and 13:40Z are 19:05 and 19:25 in Kathmandu (+05:45); 11:00Z is 16:45.
    expect(res.body.data.rows.map((r: { hour: string; clicks: number }) => [r.hour, r.clicks])).toEqual([
      ["2025-10-05T16:00:00+05:45", 1],
      ["2025-10-05T19:00:00+05:45", 2],
    ]);
  });

  it("splits weeks on Monday and months on the 1st, in the asked zone", async () => {
    const weeks = await stats(net.adminToken, "from=2025-03-24&to=2025-04-06&timezone=UTC&group_by=week");
    expect(weeks.body.data.rows.map((r: { week: string; clicks: number }) => [r.week, r.clicks])).toEqual([
      ["2025-03-24", 1],
      ["2025-03-31", 3],
    ]);
    const months = await stats(net.adminToken, "from=2025-03-01&to=2025-04-30&timezone=UTC&group_by=month");
    expect(months.body.data.rows.map((r: { month: string; clicks: number }) => [r.month, r.clicks])).toEqual([
      ["2025-03", 3],
      ["2025-04", 1],
    ]);
    // In New York (UTC-4 then) each is 4 hours earlier: 2025-03-31T00:01Z is still Sunday there,
    // and 2025-04-01T00:00Z still March.
    const ny = await stats(
      net.adminToken,
      "from=2025-03-24&to=2025-04-06&timezone=America/New_York&group_by=week,month",
    );
    expect(
      ny.body.data.rows.map((r: { week: string; month: string; clicks: number }) => [
        r.week,
        r.month,
        r.clicks,
      ]),
    ).toEqual([
      ["2025-03-24", "2025-03", 2],
      ["2025-03-31", "2025-03", 2],
    ]);
  });

  it("filters with multiple values and exclusions, and groups by several dimensions", async () => {
    const res = await stats(
      net.adminToken,
      "from=2025-10-04&to=2025-10-06&timezone=UTC&group_by=country,sub1&sub1=a,b",
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.totals.clicks).toBe(2);
    expect(
      res.body.data.rows.map((r: { country: string; sub1: string }) => [r.country, r.sub1]).sort(),
    ).toEqual([
      ["US", "a"],
      ["US", "b"],
    ]);
    const excluded = await stats(
      net.adminToken,
      "from=2025-10-04&to=2025-10-06&timezone=UTC&country=-DE&device=-mobile",
    );
    expect(excluded.body.data.totals.clicks).toBe(3);
  });

  it("compares with the previous period's same length", async () => {
    const res = await stats(
      net.adminToken,
      "from=2025-04-01&to=2025-04-01&timezone=UTC&compare=previous_period",
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.totals.clicks).toBe(1);
    expect(res.body.data.previous).toMatchObject({
      from: "2025-03-31T00:00:00Z",
      to: "2025-04-01T00:00:00Z",
      totals: { clicks: 2 },
    });
  });

  it("compares month to date with the same elapsed part of the previous month", async () => {
    const caller = {
      tenant_id: net.tenant_id,
      role: "network_admin" as const,
      advertiser_id: null,
      publisher_id: null,
    };
    const now = new Date("2025-04-01T12:30:00Z");
    const s = await queryStats(
      stack.db,
      caller,
      { interval: "mtd", timezone: "UTC", group_by: [], include_bots: false, compare: "previous_period" },
      { now },
    );
    expect(s).toMatchObject({
      from: "2025-04-01T00:00:00Z",
      to: "2025-04-01T13:00:00Z",
      totals: { clicks: 1 },
    });
    expect(s.previous).toMatchObject({
      from: "2025-03-01T00:00:00Z",
      to: "2025-03-01T13:00:00Z",
      totals: { clicks: 0 },
    });
    const later = await queryStats(
      stack.db,
      caller,
      { interval: "mtd", timezone: "UTC", group_by: [], include_bots: false, compare: "previous_period" },
      { now: new Date("2025-04-30T23:10:00Z") },
    );
    // 30 elapsed days of April against March's first 30 days.
    expect(later.previous).toMatchObject({
      from: "2025-03-01T00:00:00Z",
      to: "2025-03-31T00:00:00Z",
      totals: { clicks: 1 },
    });
  });

  it("scopes by role: admin the network, advertiser their offers, publisher their traffic without revenue", async () => {
    const q = "from=2025-01-10&to=2025-01-10&timezone=UTC&group_by=publisher,offer";
    const admin = await stats(net.adminToken, q);
    expect(admin.body.data.totals.clicks).toBe(4);
    const adv = await stats(net.advertiserToken, q);
    expect(adv.body.data.totals.clicks).toBe(3);
    expect(adv.body.data.rows.every((r: { offer: string }) => r.offer === net.offer_id)).toBe(true);
    const pub = await stats(net.publisherToken, q);
    expect(pub.body.data.totals.clicks).toBe(2);
    expect(pub.body.data.rows.every((r: { publisher: string }) => r.publisher === net.publisher_id)).toBe(
      true,
    );
    // Asking for someone else's rows answers nothing rather than leaking them.
    const foreign = await stats(net.publisherToken, `${q}&publisher_id=${publisher2}`);
    expect(foreign.body.data.totals.clicks).toBe(0);
    const otherNet = await stats(other.adminToken, q);
    expect(otherNet.body.data.totals.clicks).toBe(1);
    // Money: the publisher sees their payout, never revenue; the admin sees both.
    const money = "interval=24h&timezone=UTC";
    const pubMoney = await stats(net.publisherToken, money);
    expect(pubMoney.body.data.totals).toMatchObject({
      revenue: {},
      payout: { USD: "4.0000" },
      approved_conversions: 1,
      pending_conversions: 1,
    });
    const adminMoney = await stats(net.adminToken, money);
    expect(adminMoney.body.data.totals).toMatchObject({
      revenue: { USD: "65.5000" },
      payout: { USD: "6.5000" },
      conversions: 3,
    });
    expect(adminMoney.body.data.totals.cr).toBeCloseTo(150, 4);
    expect(adminMoney.body.data.totals.epc).toEqual({ USD: "3.2500" });
    const otherMoney = await stats(other.adminToken, money);
    expect(otherMoney.body.data.totals).toMatchObject({ clicks: 0, revenue: {}, payout: {}, conversions: 0 });
  });

  it("defaults to the network's time zone, which a network admin changes", async () => {
    const forbidden = await call(stack, "PATCH", "/api/network", {
      token: net.publisherToken,
      body: { timezone: "Asia/Tokyo" },
    });
    expect(forbidden.status).toBe(403);
    const bad = await call(stack, "PATCH", "/api/network", {
      token: net.adminToken,
      body: { timezone: "Mars/Olympus" },
    });
    expect(bad.status).toBe(400);
    const set = await call(stack, "PATCH", "/api/network", {
      token: net.adminToken,
      body: { timezone: "Australia/Adelaide" },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body.data).toMatchObject({ id: net.tenant_id, timezone: "Australia/Adelaide" });
    const res = await stats(net.adminToken, "from=2025-10-05&to=2025-10-05");
    expect(res.body.data).toMatchObject({ timezone: "Australia/Adelaide", totals: { clicks: 3 } });
    const got = await call(stack, "GET", "/api/network", { token: net.publisherToken });
    expect(got.body.data.timezone).toBe("Australia/Adelaide");
  });

  it("refuses bad parameters with 400 in the envelope", async () => {
    for (const q of [
      "timezone=Mars/Olympus",
      "group_by=Day",
      "group_by=planet",
      "from=2025-02-30",
      "from=2025-01-01&interval=7d",
      "to=2025-01-01",
      "interval=5d",
      "country=USA",
      "include_bots=yes",
      "compare=last_year",
      "bogus=1",
    ]) {
      const res = await stats(net.adminToken, q);
      expect({ q, status: res.status, code: res.body?.code }).toEqual({
        q,
        status: 400,
        code: "INVALID_PARAMS",
      });
    }
    const anon = await call(stack, "GET", "/api/stats");
    expect(anon.status).toBe(401);
  });
});

describe("GET /api/stats/live", () => {
  it("answers 60 minutes with this minute's clicks, scoped by role", async () => {
    const admin = await call(stack, "GET", "/api/stats/live", { token: net.adminToken });
    expect(admin.status, admin.text).toBe(200);
    const minutes = admin.body.data.minutes as { clicks: number; conversions: number }[];
    expect(minutes).toHaveLength(60);
    const sum = (list: { clicks: number }[]) => list.reduce((n, m) => n + m.clicks, 0);
    expect(sum(minutes)).toBe(2);
    const pub = await call(stack, "GET", "/api/stats/live", { token: net.publisherToken });
    expect(sum(pub.body.data.minutes)).toBe(1);
    const otherNet = await call(stack, "GET", "/api/stats/live", { token: other.adminToken });
    expect(sum(otherNet.body.data.minutes)).toBe(0);
  });
});
