// POST /t/{access_key} (and the tracker host form) end to end: the seed's example postback, required
// and malformed fields, access-key errors, anti-cheat on and off (also under concurrency), counted
// event types, what reaches Postgres (never the IP), the random day key of anti-cheat, the
// unknown-key marker and the tracker host's customer check.

import { createHash } from "node:crypto";
import { request } from "node:http";
import { hmacSha256Hex, SEED_TRACKER_REQUEST, trackerDayKeyName, trackerViewerHash } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../tests/support";
import { type TrackerSetup, track, trackerSetup } from "../../../../../tests/tracker-helpers";

let stack: SharedTestStack;
let plain: TrackerSetup;

beforeAll(async () => {
  stack = sharedStack();
  plain = await trackerSetup(stack);
});
afterAll(() => stack.close());

const UA = SEED_TRACKER_REQUEST.user_agent;

function eventsOf(customerId: string) {
  return stack.db.selectFrom("tracker_events").selectAll().where("customer_id", "=", customerId).execute();
}

/** The seed's body aimed at one setup's product and a fresh influencer. */
function seedBody(s: TrackerSetup, overrides: Record<string, unknown> = {}) {
  return { ...SEED_TRACKER_REQUEST, product: s.product, ...overrides };
}

describe("POST /t/{access_key}: the seed's example", () => {
  it("tracks the seed's postback: trimmed values, influencer created, counter written, IP never stored", async () => {
    const s = await trackerSetup(stack);
    const res = await track(stack, s.key, seedBody(s));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      success: true,
      message: "Event tracked",
      data: { event_id: expect.stringMatching(/^tev_/), counted: true, filtered_reason: null },
    });
    const [row, ...more] = await eventsOf(s.customer_id);
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      id: res.body.data.event_id,
      tenant_id: s.net.tenant_id,
      product_id: s.product_id,
      influencer_id: "influ_test",
      event_type: "reg",
      event_name: "registration",
      campaign: "Jan2024_special_event",
      medium: "Influencer",
      source: "twitch",
      country: "FR",
      device: "desktop",
      counted: true,
      viewer_hash: null,
    });
    expect(JSON.stringify(row)).not.toContain("132.244");
    const publisher = await stack.db
      .selectFrom("publishers")
      .selectAll()
      .where("id", "=", row?.publisher_id as string)
      .executeTakeFirstOrThrow();
    expect(publisher).toMatchObject({ tenant_id: s.net.tenant_id, influencer_id: "influ_test" });
    const rollups = await stack.db
      .selectFrom("tracker_rollups")
      .selectAll()
      .where("product_id", "=", s.product_id)
      .execute();
    expect(rollups).toEqual([
      expect.objectContaining({
        publisher_id: publisher.id,
        campaign: "Jan2024_special_event",
        event_type: "reg",
        counted: 1,
        filtered: 0,
      }),
    ]);
    expect(new Date(rollups[0]?.bucket as Date).getTime() % 900_000).toBe(0);
    // The same influencer again: the publisher is reused, not duplicated.
    expect((await track(stack, s.key, seedBody(s))).status).toBe(200);
    const pubs = await stack.db
      .selectFrom("publishers")
      .select("id")
      .where("tenant_id", "=", s.net.tenant_id)
      .where("influencer_id", "=", "influ_test")
      .execute();
    expect(pubs).toHaveLength(1);
  });

  it("takes the tracker host form: POST /{access_key} on api-tracker-{customer}.{suffix}", async () => {
    const answer = await postOnHost(
      `api-tracker-${plain.customer_code}.streamtools.example.com`,
      `/${plain.key}`,
      seedBody(plain, { influencer_id: "host_form" }),
    );
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text).data.counted).toBe(true);
  });

  it("on the tracker host, refuses another customer's key as unknown and serves nothing but postbacks", async () => {
    const other = await trackerSetup(stack);
    const before = (await eventsOf(plain.customer_id)).length;
    const foreign = await postOnHost(
      `api-tracker-${other.customer_code}.streamtools.example.com`,
      `/${plain.key}`,
      seedBody(plain, { influencer_id: "wrong_host" }),
    );
    expect(foreign.status, foreign.text).toBe(401);
    expect(JSON.parse(foreign.text)).toMatchObject({ success: false, code: "INVALID_API_KEY" });
    expect((await eventsOf(plain.customer_id)).length).toBe(before);
    for (const [method, path] of [
      ["GET", "/api/tracker/customers"],
      ["POST", "/api/auth/login"],
      ["POST", `/t/${plain.key}`],
    ] as const) {
      const res = await postOnHost(
        `api-tracker-${plain.customer_code}.streamtools.example.com`,
        path,
        method === "POST" ? {} : undefined,
        method,
      );
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(JSON.parse(res.text)).toMatchObject({ success: false, code: "NOT_FOUND" });
    }
    const widgetHost = await postOnHost(
      `${plain.product}-widget-${plain.customer_code}.streamtools.example.com`,
      "/api/tracker/customers/x/y",
      undefined,
      "GET",
    );
    expect(widgetHost.status).toBe(404);
  });
});

/** A request with its own Host header (fetch cannot set one). */
function postOnHost(
  host: string,
  path: string,
  json: unknown,
  method = "POST",
): Promise<{ status: number; text: string }> {
  const url = new URL(stack.apiUrl);
  const body = json === undefined ? "" : JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          host,
          ...(body ? { "content-type": "application/json" } : {}),
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function redisOf() {
  return new Redis({ url: stack.redisRestUrl, token: stack.redisRestToken });
}

describe("unknown access keys", () => {
  it("are remembered in Redis for 30 s (a digest, not the key), and the marker is read before Postgres", async () => {
    const redis = redisOf();
    const unknown = `tk_${"B".repeat(40)}`;
    const marker = `tracker:unknown-key:${await sha256Prefix(unknown)}`;
    await redis.del(marker);
    expect((await track(stack, unknown, {})).status).toBe(401);
    // Written after the answer (waitUntil): wait for it briefly.
    let ttl = -2;
    for (let i = 0; i < 40 && ttl < 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      ttl = await redis.ttl(marker);
    }
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    expect((await redis.keys("tracker:unknown-key:*")).some((k) => k.includes(unknown))).toBe(false);

    // A marker planted for a real key that was never used: the key is refused without a lookup.
    const s = await trackerSetup(stack);
    const name = `tracker:unknown-key:${await sha256Prefix(s.key)}`;
    await redis.set(name, "1", { ex: 30 });
    expect((await track(stack, s.key, seedBody(s))).status).toBe(401);
    await redis.del(name);
    expect((await track(stack, s.key, seedBody(s))).status).toBe(200);
  });
});

async function sha256Prefix(text: string): Promise<string> {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

describe("POST /t/{access_key}: refusals", () => {
  it.each([
    [{ product: "x" }, 'Missing parameter "influencer_id"'],
    [{ influencer_id: "a" }, 'Missing parameter "product"'],
    [{ influencer_id: "   ", product: "p" }, 'Invalid parameter "influencer_id"'],
    [{ influencer_id: 42, product: "p" }, 'Invalid parameter "influencer_id"'],
    [{ influencer_id: "a/b", product: "p" }, 'Invalid parameter "influencer_id"'],
    [{ influencer_id: "a", product: "p", country: "FRA" }, 'Invalid parameter "country"'],
    [{ influencer_id: "a", product: "p", ip: "999.1.1.1" }, 'Invalid parameter "ip"'],
    [{ influencer_id: "a", product: "p", event_type: "a b" }, 'Invalid parameter "event_type"'],
    [{ influencer_id: "a", product: "p", campaign: 5 }, 'Invalid parameter "campaign"'],
  ])("400 naming the field for %j", async (body, message) => {
    const before = (await eventsOf(plain.customer_id)).length;
    const res = await track(stack, plain.key, body);
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: "INVALID_PARAMS" });
    expect(res.body.error).toContain(message);
    expect((await eventsOf(plain.customer_id)).length).toBe(before);
  });

  it("400 naming product for a product the customer does not have", async () => {
    const res = await track(stack, plain.key, seedBody(plain, { product: "nope" }));
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('"product"');
  });

  it("401 for a malformed, unknown or revoked key, before the body is read", async () => {
    for (const key of ["test-access-key", `tk_${"A".repeat(40)}`]) {
      const res = await track(stack, key, {});
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        success: false,
        error: "Unknown or revoked access key",
        code: "INVALID_API_KEY",
      });
    }
    const s = await trackerSetup(stack);
    expect((await track(stack, s.key, seedBody(s))).status).toBe(200);
    const revoked = await call(stack, "DELETE", `/api/tracker/access-keys/${s.key_id}`, {
      token: s.net.adminToken,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.status).toBe("revoked");
    await new Promise((r) => setTimeout(r, 1100)); // the isolate cache's TTL
    const res = await track(stack, s.key, seedBody(s));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("INVALID_API_KEY");
  });
});

describe("anti-cheat", () => {
  it("on: a repeat of the viewer (IP + UA) for the product, influencer and event type the same day is kept as filtered", async () => {
    const s = await trackerSetup(stack, { anti_cheat: true });
    const first = await track(stack, s.key, seedBody(s, { influencer_id: "ac_on" }));
    expect(first.body.data).toMatchObject({ counted: true, filtered_reason: null });
    const repeat = await track(stack, s.key, seedBody(s, { influencer_id: "ac_on", source: "other" }));
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({
      message: "Event recorded as filtered",
      data: { counted: false, filtered_reason: "repeat_viewer" },
    });
    // Another event type, another IP, another UA, another influencer: each counts once.
    for (const change of [
      { event_type: "dep" },
      { ip: "132.244.133.123" },
      { user_agent: `${UA} other` },
      { influencer_id: "ac_other" },
    ]) {
      const res = await track(stack, s.key, seedBody(s, { influencer_id: "ac_on", ...change }));
      expect(res.body.data.counted, JSON.stringify(change)).toBe(true);
    }
    // Without a user agent the viewer is unknown: not filtered.
    for (let i = 0; i < 2; i++) {
      const res = await track(stack, s.key, seedBody(s, { influencer_id: "ac_on", user_agent: undefined }));
      expect(res.body.data.counted).toBe(true);
    }
    const rows = await eventsOf(s.customer_id);
    expect(rows.filter((r) => !r.counted)).toHaveLength(1);
    const hashed = rows.filter((r) => r.viewer_hash !== null);
    expect(hashed.length).toBe(6); // the first, the repeat and the four changes
    for (const r of hashed) expect(r.viewer_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(rows)).not.toContain("132.244");
    const counters = await stack.db
      .selectFrom("tracker_rollups")
      .select((eb) => [
        eb.fn.sum<string>("counted").as("counted"),
        eb.fn.sum<string>("filtered").as("filtered"),
      ])
      .where("product_id", "=", s.product_id)
      .executeTakeFirstOrThrow();
    expect(counters).toEqual({ counted: "7", filtered: "1" });
  });

  it("on: concurrent repeats count exactly once (unique index, no read-then-write)", async () => {
    const s = await trackerSetup(stack, { anti_cheat: true });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => track(stack, s.key, seedBody(s, { influencer_id: "racer" }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.filter((r) => r.body.data.counted)).toHaveLength(1);
    const rows = await eventsOf(s.customer_id);
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.counted)).toHaveLength(1);
  });

  it("off: the same viewer counts every time, and no viewer hash is kept", async () => {
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await track(stack, plain.key, seedBody(plain, { influencer_id: "ac_off" })));
    expect(results.map((r) => r.body.data.counted)).toEqual([true, true, true]);
    const rows = (await eventsOf(plain.customer_id)).filter((r) => r.influencer_id === "ac_off");
    expect(rows.map((r) => r.viewer_hash)).toEqual([null, null, null]);
  });

  it("switching anti-cheat on takes effect within a second", async () => {
    const s = await trackerSetup(stack);
    const patched = await call(stack, "PATCH", `/api/tracker/products/${s.product_id}`, {
      token: s.net.adminToken,
      body: { anti_cheat: true },
    });
    expect(patched.body.data.anti_cheat).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    const a = await track(stack, s.key, seedBody(s));
    const b = await track(stack, s.key, seedBody(s));
    expect([a.body.data.counted, b.body.data.counted]).toEqual([true, false]);
  });
});

describe("the anti-cheat day key", () => {
  it("is random, kept in Redis for at most 26 h, and not derivable from IP_HASH_SECRET", async () => {
    const s = await trackerSetup(stack, { anti_cheat: true });
    const res = await track(stack, s.key, seedBody(s, { influencer_id: "day_key" }));
    expect(res.status, res.text).toBe(200);
    const [row] = await eventsOf(s.customer_id);
    const hash = row?.viewer_hash as string;
    expect(hash).toMatch(/^[0-9a-f]{32}$/);

    const redis = redisOf();
    const name = trackerDayKeyName(new Date(row?.created_at as Date).getTime());
    const stored = await redis.get<string>(name);
    expect(stored).toMatch(/^k1\.[0-9a-f]{64}$/);
    const ttl = await redis.ttl(name);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(26 * 3600);
    const viewer = {
      ip: SEED_TRACKER_REQUEST.ip,
      userAgent: UA,
      productId: s.product_id,
      influencerId: "day_key",
      eventType: SEED_TRACKER_REQUEST.event_type,
    };
    expect(await trackerViewerHash((stored as string).slice(3), viewer)).toBe(hash);
    // The round-1 derivation from the long-lived secret no longer rebuilds it.
    const derived = await hmacSha256Hex(stack.ipHashSecret, `tracker-day|${name.slice(-10)}`);
    expect(await trackerViewerHash(derived, viewer)).not.toBe(hash);
  });
});

describe("counted event types", () => {
  it("a product that counts only `reg` keeps other types as filtered", async () => {
    const s = await trackerSetup(stack, { event_types: ["reg"] });
    const reg = await track(stack, s.key, seedBody(s));
    const dep = await track(stack, s.key, seedBody(s, { event_type: "dep" }));
    const none = await track(stack, s.key, seedBody(s, { event_type: undefined }));
    expect(reg.body.data.counted).toBe(true);
    expect(dep.body.data).toMatchObject({ counted: false, filtered_reason: "event_type_not_counted" });
    expect(none.body.data).toMatchObject({ counted: false, filtered_reason: "event_type_not_counted" });
  });
});
