// The tracker's management API: customers, access keys and products for network admins only,
// scoped to the network, and the brand's stats per influencer, campaign, event type and period.

import { SEED_TRACKER_REQUEST } from "@afftrack/core";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";
import { type TrackerSetup, track, trackerSetup, uniqueCode } from "../../../../../../tests/tracker-helpers";

let stack: SharedTestStack;
let s: TrackerSetup;
let other: TrackerSetup;

beforeAll(async () => {
  stack = sharedStack();
  [s, other] = await Promise.all([trackerSetup(stack), trackerSetup(stack)]);
});
afterAll(() => stack.close());

describe("customers, keys and products", () => {
  it("customer codes are unique across the platform and well-formed", async () => {
    const taken = await call(stack, "POST", "/api/tracker/customers", {
      token: other.net.adminToken,
      body: { name: "Copy", customer_code: s.customer_code },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe("CONFLICT");
    const bad = await call(stack, "POST", "/api/tracker/customers", {
      token: s.net.adminToken,
      body: { name: "Bad", customer_code: "has-dash" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('"customer_code"');
  });

  it("only network admins manage the tracker", async () => {
    for (const token of [s.net.advertiserToken, s.net.publisherToken]) {
      for (const [method, path] of [
        ["GET", "/api/tracker/customers"],
        ["GET", "/api/tracker/access-keys"],
        ["GET", "/api/tracker/products"],
        ["GET", "/api/tracker/stats?from=2026-01-01&to=2026-01-02"],
      ] as const) {
        const res = await call(stack, method, path, { token });
        expect(res.status, `${method} ${path}`).toBe(403);
      }
    }
  });

  it("lists show the network's own records only, keys never in full", async () => {
    const keys = await call(stack, "GET", "/api/tracker/access-keys", { token: s.net.adminToken });
    expect(keys.body.data.items).toEqual([
      expect.objectContaining({
        id: s.key_id,
        customer_id: s.customer_id,
        prefix: s.key.slice(0, 10),
        status: "active",
      }),
    ]);
    expect(keys.text).not.toContain(s.key);
    const products = await call(stack, "GET", `/api/tracker/products?customer_id=${s.customer_id}`, {
      token: s.net.adminToken,
    });
    expect(products.body.data.items.map((p: { id: string }) => p.id)).toEqual([s.product_id]);
    const customers = await call(stack, "GET", "/api/tracker/customers", { token: s.net.adminToken });
    expect(customers.body.data.items.map((c: { id: string }) => c.id)).toEqual([s.customer_id]);
  });

  it("another network's customer, product and key are 404", async () => {
    const t = s.net.adminToken;
    const attempts = [
      call(stack, "POST", "/api/tracker/access-keys", { token: t, body: { customer_id: other.customer_id } }),
      call(stack, "POST", "/api/tracker/products", {
        token: t,
        body: { customer_id: other.customer_id, code: uniqueCode("p"), name: "x" },
      }),
      call(stack, "GET", `/api/tracker/products/${other.product_id}`, { token: t }),
      call(stack, "PATCH", `/api/tracker/products/${other.product_id}`, {
        token: t,
        body: { name: "pwned" },
      }),
      call(stack, "POST", `/api/tracker/products/${other.product_id}/test-event`, {
        token: t,
        body: { influencer_id: "x" },
      }),
      call(stack, "DELETE", `/api/tracker/access-keys/${other.key_id}`, { token: t }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status, res.text).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    const still = await track(stack, other.key, { ...SEED_TRACKER_REQUEST, product: other.product });
    expect(still.status).toBe(200);
  });
});

describe("GET /api/tracker/stats", () => {
  it("counts per day, influencer, campaign and event type, counted and filtered", async () => {
    const ac = await trackerSetup(stack, { anti_cheat: true }, s.net);
    const base = { ...SEED_TRACKER_REQUEST, product: ac.product };
    await track(stack, ac.key, { ...base, influencer_id: "stat_a" });
    await track(stack, ac.key, { ...base, influencer_id: "stat_a" }); // filtered repeat
    await track(stack, ac.key, { ...base, influencer_id: "stat_a", event_type: "dep", campaign: "" });
    await track(stack, ac.key, { ...base, influencer_id: "stat_b", ip: "132.244.133.9" });
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const res = await call(
      stack,
      "GET",
      `/api/tracker/stats?from=${today}&to=${tomorrow}&product_id=${ac.product_id}`,
      { token: s.net.adminToken },
    );
    expect(res.status, res.text).toBe(200);
    const period = `${today}T00:00:00.000Z`;
    expect(res.body.data).toEqual({
      rows: [
        {
          period,
          product_id: ac.product_id,
          influencer_id: "stat_a",
          campaign: null,
          event_type: "dep",
          counted: 1,
          filtered: 0,
        },
        {
          period,
          product_id: ac.product_id,
          influencer_id: "stat_a",
          campaign: "Jan2024_special_event",
          event_type: "reg",
          counted: 1,
          filtered: 1,
        },
        {
          period,
          product_id: ac.product_id,
          influencer_id: "stat_b",
          campaign: "Jan2024_special_event",
          event_type: "reg",
          counted: 1,
          filtered: 0,
        },
      ],
      totals: { counted: 3, filtered: 1 },
      truncated: false,
    });
    // Another network sees none of it.
    const foreign = await call(
      stack,
      "GET",
      `/api/tracker/stats?from=${today}&to=${tomorrow}&product_id=${ac.product_id}`,
      {
        token: other.net.adminToken,
      },
    );
    expect(foreign.body.data).toEqual({ rows: [], totals: { counted: 0, filtered: 0 }, truncated: false });
  });

  it("says truncated when more than 10,000 rows match, with totals over all of them", async () => {
    const big = await trackerSetup(stack, {}, s.net);
    const first = await track(stack, big.key, {
      ...SEED_TRACKER_REQUEST,
      product: big.product,
      influencer_id: "many",
    });
    expect(first.status, first.text).toBe(200);
    const publisher = await stack.db
      .selectFrom("tracker_events")
      .select("publisher_id")
      .where("id", "=", first.body.data.event_id)
      .executeTakeFirstOrThrow();
    // 10,001 more groups (one event type each) in the hour the postback landed in.
    await sql`
      INSERT INTO tracker_rollups (tenant_id, product_id, publisher_id, campaign, event_type, bucket, counted, filtered)
      SELECT ${s.net.tenant_id}, ${big.product_id}, ${publisher.publisher_id}, '', 'bulk' || g,
             date_trunc('hour', now()), 2, 1
      FROM generate_series(1, 10001) AS g
    `.execute(stack.db);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const res = await call(
      stack,
      "GET",
      `/api/tracker/stats?from=${today}&to=${tomorrow}&product_id=${big.product_id}`,
      { token: s.net.adminToken },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.truncated).toBe(true);
    expect(res.body.data.rows).toHaveLength(10_000);
    expect(res.body.data.totals).toEqual({ counted: 1 + 2 * 10_001, filtered: 10_001 });
  });

  it("refuses bad ranges and zones naming the parameter", async () => {
    const t = s.net.adminToken;
    const cases: Array<[string, string]> = [
      ["from=2026-01-02&to=2026-01-01", '"to"'],
      ["from=2020-01-01&to=2026-01-01", '"to"'],
      ["from=2026-01-01&to=2026-01-02&timezone=Mars/Base", "timezone"],
      ["from=yesterday&to=2026-01-02", "from"],
      ["from=2026-01-01&to=2026-01-02&interval=week", "interval"],
    ];
    for (const [q, field] of cases) {
      const res = await call(stack, "GET", `/api/tracker/stats?${q}`, { token: t });
      expect(res.status, q).toBe(400);
      expect(res.body.error, q).toContain(field);
    }
  });
});
