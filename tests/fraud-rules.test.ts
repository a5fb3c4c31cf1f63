// Issue 13, fraud rules: datacenter traffic (from the visitor's ASN), per-IP and per-link click
// caps, and click-to-conversion time bounds, each with its action (flag, hold, reject). Whatever
// the action, the rule leaves a fraud event: nothing is dropped silently.

import { insertClickBatch } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFields, conversionRow, ingestFixture, json, postSigned } from "./ingest-support";
import { buildNetwork, call, type Network } from "./management-helpers";
import {
  BROWSER_UA,
  clickEvent,
  clickIdOf,
  clickRow,
  nextIp,
  type SharedTestStack,
  sharedStack,
  signedPath,
} from "./support";

let stack: SharedTestStack;
let net: Network;

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Fraud rules");
});
afterAll(async () => {
  await stack?.close();
});

const AWS = 16509;
const RESIDENTIAL = 7922; // Comcast: not on the list

/** Sets an offer's stored rules (before its first click, so its link record carries them). */
const setRules = (offerId: string, rules: Record<string, unknown>) =>
  stack.db
    .updateTable("offers")
    .set({ fraud_rules: JSON.stringify(rules) })
    .where("id", "=", offerId)
    .execute();

async function click(path: string, opts: { asn?: number; ip?: string; ua?: string } = {}) {
  const res = await stack.mf.dispatchFetch(new URL(path, stack.edgeUrl), {
    redirect: "manual",
    headers: { "user-agent": opts.ua ?? BROWSER_UA, "cf-connecting-ip": opts.ip ?? nextIp() },
    cf: { asn: opts.asn ?? RESIDENTIAL },
  });
  expect(res.status).toBe(302);
  return clickRow(stack.db, clickIdOf(res.headers.get("location")));
}

const fraudEvents = (clickId: string) =>
  stack.db.selectFrom("fraud_events").select(["kind", "detail"]).where("click_id", "=", clickId).execute();

async function approvedPostback(f: Awaited<ReturnType<typeof ingestFixture>>, clickId: string) {
  const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
  expect(res.status).toBe(200);
  return conversionRow(stack, (await json(res)).data.conversion_id as string);
}

describe("datacenter traffic", () => {
  it("is flagged by default: the click counts and pays, and a fraud event names it", async () => {
    const f = await ingestFixture(stack);
    const row = await click(await signedPath(f), { asn: AWS });
    expect(row).toMatchObject({ verdict: "valid", flags: ["datacenter"], held: false });
    expect((await fraudEvents(row.click_id)).map((e) => e.kind)).toEqual(["datacenter"]);
    expect(await approvedPostback(f, row.click_id)).toMatchObject({
      status: "approved",
      attribution: "click",
    });

    const human = await click(await signedPath(f), { asn: RESIDENTIAL });
    expect(human).toMatchObject({ verdict: "valid", flags: [], held: false });
    expect(await fraudEvents(human.click_id)).toEqual([]);
  });

  it("hold: the click counts, its conversions wait as pending", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { datacenter: "hold" });
    const row = await click(await signedPath(f), { asn: AWS });
    expect(row).toMatchObject({ verdict: "valid", flags: ["datacenter"], held: true });
    expect(await approvedPostback(f, row.click_id)).toMatchObject({
      status: "pending",
      attribution: "click",
    });
  });

  it("reject: the click is recorded as datacenter, not counted, and its conversions pay no one", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { datacenter: "reject" });
    const row = await click(await signedPath(f), { asn: AWS });
    expect(row.verdict).toBe("datacenter");
    expect((await fraudEvents(row.click_id)).map((e) => e.kind)).toContain("datacenter");
    const conversion = await approvedPostback(f, row.click_id);
    expect(conversion).toMatchObject({ attribution: "click_not_counted", publisher_id: null });
    expect(Number(conversion.payout)).toBe(0);
  });

  it("off: nothing is flagged", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { datacenter: "off" });
    const row = await click(await signedPath(f), { asn: AWS });
    expect(row).toMatchObject({ verdict: "valid", flags: [] });
  });
});

describe("click frequency caps", () => {
  it("per visitor IP: clicks beyond the cap are rejected (distinct browsers from one IP)", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { ip_frequency: { max_clicks: 2, window_seconds: 3600, action: "reject" } });
    const ip = nextIp();
    const rows = [];
    for (let i = 0; i < 4; i++)
      rows.push(await click(await signedPath(f), { ip, ua: `${BROWSER_UA} v${i}` }));
    expect(rows.map((r) => r.verdict)).toEqual(["valid", "valid", "frequency_cap", "frequency_cap"]);
    expect(rows[2]?.flags).toEqual(["ip_frequency"]);
    expect((await fraudEvents(rows[3]!.click_id)).map((e) => e.kind).sort()).toEqual([
      "frequency_cap",
      "ip_frequency",
    ]);
    // Another visitor is not affected.
    expect((await click(await signedPath(f))).verdict).toBe("valid");
  });

  it("per visitor IP counts an IPv6 client's whole /64: rotating addresses buys no more clicks", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { ip_frequency: { max_clicks: 2, window_seconds: 3600, action: "reject" } });
    const net64 = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:42`;
    const rows = [];
    for (const host of ["1", "2", "ffff:ffff:fffe"])
      rows.push(await click(await signedPath(f), { ip: `${net64}::${host}` }));
    expect(rows.map((r) => r.verdict)).toEqual(["valid", "valid", "frequency_cap"]);
    // The neighbouring /64 is another client.
    expect((await click(await signedPath(f), { ip: `${net64.slice(0, -2)}43::1` })).verdict).toBe("valid");
  });

  it("per link: flagged beyond the cap, still counted", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, {
      ip_frequency: null,
      link_frequency: { max_clicks: 1, window_seconds: 60, action: "flag" },
    });
    const first = await click(await signedPath(f));
    const second = await click(await signedPath(f));
    expect(first).toMatchObject({ verdict: "valid", flags: [] });
    expect(second).toMatchObject({ verdict: "valid", flags: ["link_frequency"], held: false });
    expect((await fraudEvents(second.click_id)).map((e) => e.kind)).toEqual(["link_frequency"]);
  });

  it("by default flags a visitor IP beyond 20 clicks an hour, and pays as usual", async () => {
    const f = await ingestFixture(stack);
    const ip = nextIp();
    const rows = [];
    for (let i = 0; i < 21; i++)
      rows.push(await click(await signedPath(f), { ip, ua: `${BROWSER_UA} n${i}` }));
    expect(rows.slice(0, 20).every((r) => r.flags.length === 0)).toBe(true);
    expect(rows[20]).toMatchObject({ verdict: "valid", flags: ["ip_frequency"] });
  });
});

describe("click-to-conversion time bounds", () => {
  it("too fast, reject: the conversion is recorded rejected and a fraud event names it", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { conversion_time: { min_seconds: 600, action: "reject" } });
    const c = clickEvent(f, { created_at: Date.now() - 5_000 });
    await insertClickBatch(stack.db, [c]);
    const row = await approvedPostback(f, c.click_id);
    expect(row).toMatchObject({ status: "rejected", attribution: "click" });
    const events = await fraudEvents(c.click_id);
    expect(events.map((e) => e.kind)).toEqual(["conversion_too_fast"]);
    expect(events[0]?.detail).toMatchObject({ action: "reject", conversion_id: row.id });
  });

  it("too slow, hold: pending; within the bounds: approved", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { conversion_time: { min_seconds: 1, max_seconds: 3600, action: "hold" } });
    const old = clickEvent(f, { created_at: Date.now() - 2 * 3600_000 });
    const fresh = clickEvent(f, { created_at: Date.now() - 60_000 });
    await insertClickBatch(stack.db, [old, fresh]);
    expect(await approvedPostback(f, old.click_id)).toMatchObject({ status: "pending" });
    expect((await fraudEvents(old.click_id)).map((e) => e.kind)).toEqual(["conversion_too_slow"]);
    expect(await approvedPostback(f, fresh.click_id)).toMatchObject({ status: "approved" });
    expect(await fraudEvents(fresh.click_id)).toEqual([]);
  });

  it("flag: approved and paid, with a fraud event", async () => {
    const f = await ingestFixture(stack);
    await setRules(f.offer_id, { conversion_time: { min_seconds: 600, action: "flag" } });
    const c = clickEvent(f, { created_at: Date.now() - 1_000 });
    await insertClickBatch(stack.db, [c]);
    const row = await approvedPostback(f, c.click_id);
    expect(row.status).toBe("approved");
    expect(Number(row.payout)).toBeGreaterThan(0);
    expect((await fraudEvents(c.click_id)).map((e) => e.kind)).toEqual(["conversion_too_fast"]);
  });

  it("a click held by an edge rule holds its conversions", async () => {
    const f = await ingestFixture(stack);
    const c = clickEvent(f, { flags: ["datacenter"], hold: true });
    await insertClickBatch(stack.db, [c]);
    expect(await approvedPostback(f, c.click_id)).toMatchObject({ status: "pending" });
  });
});

describe("the offer API", () => {
  it("shows every rule with its default, merges updates, and refuses bad rules", async () => {
    const created = await call(stack, "POST", "/api/offers", {
      token: net.advertiserToken,
      body: { name: "Rules", destination_url: "https://example.com/", payout_amount: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.fraud_rules).toEqual({
      datacenter: "flag",
      ip_frequency: { max_clicks: 20, window_seconds: 3600, action: "flag" },
      link_frequency: null,
      conversion_time: null,
    });
    const id = created.body.data.id as string;
    const patched = await call(stack, "PATCH", `/api/offers/${id}`, {
      token: net.advertiserToken,
      body: { fraud_rules: { datacenter: "reject", conversion_time: { min_seconds: 30, action: "hold" } } },
    });
    expect(patched.status).toBe(200);
    const again = await call(stack, "PATCH", `/api/offers/${id}`, {
      token: net.advertiserToken,
      body: { fraud_rules: { ip_frequency: null } },
    });
    expect(again.body.data.fraud_rules).toEqual({
      datacenter: "reject",
      ip_frequency: null,
      link_frequency: null,
      conversion_time: { min_seconds: 30, max_seconds: null, action: "hold" },
    });
    for (const bad of [
      { datacenter: "block" },
      { ip_frequency: { max_clicks: 0, window_seconds: 3600, action: "flag" } },
      { ip_frequency: { max_clicks: 5, window_seconds: 10, action: "flag" } },
      { conversion_time: { min_seconds: 600, max_seconds: 60, action: "hold" } },
      { velocity: true },
    ]) {
      const res = await call(stack, "PATCH", `/api/offers/${id}`, {
        token: net.advertiserToken,
        body: { fraud_rules: bad },
      });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.code).toBe("INVALID_PARAMS");
      expect(res.body.error).toContain("fraud_rules");
    }
  });
});
