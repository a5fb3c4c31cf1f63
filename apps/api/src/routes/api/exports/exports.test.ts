// Raw events, fraud insights and CSV exports over HTTP: keyset pages of clicks and conversions,
// fraud events with filters, verdict breakdowns, and a CSV export of a range that spans several
// export pages (streamed), scoped by role.

import { type ClickEvent, newClickId, newId } from "@afftrack/core";
import { insertClickBatch, insertConversion } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, type Network } from "../../../../../../tests/management-helpers";
import {
  clickEvent,
  conversionRowOn,
  type SharedTestStack,
  sharedStack,
  stackFetch,
} from "../../../../../../tests/support";
import { csvCell, EXPORT_PAGE } from "../../../services/csv-export";

let stack: SharedTestStack;
let net: Network;
let other: Network;
let publisher2: string;
const N = EXPORT_PAGE * 2 + 17;

function click(n: Network, at: number, extra: Partial<ClickEvent> = {}): ClickEvent {
  return clickEvent(
    { ...n, tracking_code: "code_x" },
    {
      click_id: newClickId(at),
      created_at: at,
      country: "FR",
      device: "mobile",
      os: "iOS",
      browser: "Safari",
      ...extra,
    },
  );
}

const base = Date.parse("2025-02-01T00:00:00Z");

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Exports");
  other = await buildNetwork(stack, "Others");
  publisher2 = (await call(stack, "POST", "/api/publishers", { token: net.adminToken, body: { name: "P2" } }))
    .body.data.id;
  const clicks: ClickEvent[] = [];
  for (let i = 0; i < N; i++) {
    const fraud = i % 10 === 0;
    clicks.push(
      click(net, base + i * 1000, {
        publisher_id: i % 2 === 0 ? net.publisher_id : publisher2,
        verdict: fraud ? (i % 20 === 0 ? "replay" : "expired") : "valid",
        sub1: i % 3 === 0 ? '=HYPERLINK("x")' : `s,${i % 3}`,
      }),
    );
  }
  for (let i = 0; i < clicks.length; i += 1000) await insertClickBatch(stack.db, clicks.slice(i, i + 1000));
  await insertClickBatch(stack.db, [click(other, base + 5000)]);
  const c = clicks[1] as ClickEvent;
  const id = newId("conv");
  await insertConversion(
    stack.db,
    conversionRowOn(net, c, {
      id,
      transaction_id: "tx-export",
      click_verdict: "valid",
      amount: "99.9900",
      currency: "EUR",
      payout: "9.0000",
      payout_currency: "EUR",
    }),
  );
}, 120_000);
afterAll(() => stack.close());

describe("GET /api/events", () => {
  it("pages through clicks newest first without gaps or repeats, scoped by role", async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    let previous = "9999";
    do {
      const q: string = `/api/events?type=clicks&limit=100&from=2025-02-01T00:00:00Z&to=2025-02-01T00:05:00Z${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await call(stack, "GET", q, { token: net.adminToken });
      expect(res.status, res.text).toBe(200);
      for (const item of res.body.data.items) {
        expect(seen.has(item.click_id)).toBe(false);
        expect(item.created_at <= previous).toBe(true);
        previous = item.created_at;
        seen.add(item.click_id);
      }
      cursor = res.body.data.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.size).toBe(300);
    const pub = await call(stack, "GET", "/api/events?type=clicks&limit=100", { token: net.publisherToken });
    expect(
      pub.body.data.items.every((i: { publisher_id: string }) => i.publisher_id === net.publisher_id),
    ).toBe(true);
    const conv = await call(stack, "GET", "/api/events?type=conversions", { token: net.publisherToken });
    expect(conv.body.data.items).toHaveLength(0); // the conversion is on publisher2's click
    const advConv = await call(stack, "GET", "/api/events?type=conversions&status=approved", {
      token: net.advertiserToken,
    });
    expect(advConv.body.data.items).toMatchObject([
      { transaction_id: "tx-export", amount: "99.9900", currency: "EUR" },
    ]);
    const otherNet = await call(stack, "GET", "/api/events", { token: other.adminToken });
    expect(otherNet.body.data.items).toHaveLength(1);
  });
});

describe("fraud", () => {
  it("lists fraud events with filters and pages", async () => {
    // Clicks 0..1799 are in the first 30 minutes; every 20th is a replay.
    const res = await call(stack, "GET", "/api/fraud-events?kind=replay&limit=100&to=2025-02-01T00:30:00Z", {
      token: net.adminToken,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.items).toHaveLength(90);
    expect(res.body.data.next_cursor).toBeNull();
    expect(res.body.data.items.every((e: { kind: string }) => e.kind === "replay")).toBe(true);
    const page1 = await call(stack, "GET", "/api/fraud-events?limit=50", { token: net.adminToken });
    const page2 = await call(
      stack,
      "GET",
      `/api/fraud-events?limit=50&cursor=${page1.body.data.next_cursor}`,
      { token: net.adminToken },
    );
    const ids = [...page1.body.data.items, ...page2.body.data.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(100);
    const otherNet = await call(stack, "GET", "/api/fraud-events", { token: other.adminToken });
    expect(otherNet.body.data.items).toEqual([]);
  });

  it("answers verdict counts over time, by publisher and sub1, and the filtered share", async () => {
    const res = await call(stack, "GET", "/api/stats/fraud?from=2025-02-01&to=2025-02-01&timezone=UTC", {
      token: net.adminToken,
    });
    expect(res.status, res.text).toBe(200);
    const fraud = Math.ceil(N / 10);
    const replay = Math.ceil(N / 20);
    expect(res.body.data.totals).toMatchObject({
      clicks: N,
      fraud_clicks: fraud,
      by_verdict: { valid: N - fraud, replay, expired: fraud - replay },
    });
    expect(res.body.data.totals.filtered_share).toBeCloseTo(fraud / N, 6);
    expect(res.body.data.over_time).toHaveLength(1);
    // Every fraud click is at an even index: all on the first publisher.
    expect(res.body.data.by_publisher).toMatchObject([{ publisher: net.publisher_id, fraud_clicks: fraud }]);
    expect(res.body.data.top_sources[0]).toMatchObject({ publisher: net.publisher_id });
    const pub2 = await call(stack, "GET", "/api/stats/fraud?from=2025-02-01&to=2025-02-01&timezone=UTC", {
      token: net.publisherToken,
    });
    expect(pub2.body.data.totals.clicks).toBe(Math.ceil(N / 2));
  });
});

describe("CSV exports", () => {
  it("streams every click of a range across several pages, quoted and formula-safe", async () => {
    const res = await stackFetch(
      `${stack.apiUrl}/api/exports/clicks.csv?from=2025-02-01T00:00:00Z&to=2025-02-02T00:00:00Z`,
      { headers: { authorization: `Bearer ${net.adminToken}` } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const text = await res.text();
    const lines = text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "click_id,created_at,verdict,source,offer_id,publisher_id,tracking_code,country,device,os,browser,sub1,sub2,sub3,sub4,sub5,unverified",
    );
    expect(lines).toHaveLength(N + 1);
    expect(new Set(lines.slice(1).map((l) => l.split(",")[0])).size).toBe(N);
    expect(text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(text).toContain('"s,1"');
    // Oldest first.
    expect(lines[1]).toContain("2025-02-01T00:00:00.000Z");
    const pub = await stackFetch(
      `${stack.apiUrl}/api/exports/conversions.csv?from=2025-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`,
      { headers: { authorization: `Bearer ${net.adminToken}` } },
    );
    const conv = (await pub.text()).trimEnd().split("\r\n");
    expect(conv).toHaveLength(2);
    expect(conv[1]).toContain("99.9900");
    const asPublisher = await stackFetch(
      `${stack.apiUrl}/api/exports/conversions.csv?from=2025-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`,
      { headers: { authorization: `Bearer ${net.publisherToken}` } },
    );
    const header = (await asPublisher.text()).split("\r\n")[0];
    expect(header).not.toContain("amount");
    const bad = await call(stack, "GET", "/api/exports/clicks.csv?from=yesterday&to=2025-01-01T00:00:00Z", {
      token: net.adminToken,
    });
    expect(bad.status).toBe(400);
  });

  it("quotes cells as RFC 4180 asks", () => {
    expect(csvCell('a"b')).toBe('"a""b"');
    expect(csvCell("-12.5")).toBe("-12.5");
    expect(csvCell("@cmd")).toBe("'@cmd");
    expect(csvCell(null)).toBe("");
  });
});
