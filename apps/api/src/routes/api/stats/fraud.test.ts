// GET /api/stats/fraud over HTTP: the fraud rules' events beside the verdicts — click flags
// (datacenter, ip_frequency, link_frequency, counted or held), conversion time bounds
// (conversion_too_fast / _slow), the clicks held for review and the unverified clicks — per kind,
// per local day, scoped by role and network.

import type { ClickEvent } from "@afftrack/core";
import { insertClickBatch, insertConversion } from "@afftrack/db";
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

function click(n: Network, at: string, extra: Partial<ClickEvent> = {}): ClickEvent {
  return clickEvent({ ...n, tracking_code: "code_f" }, { created_at: Date.parse(at), ...extra });
}

async function conversionOn(c: ClickEvent, kind: string) {
  await insertConversion(stack.db, conversionRowOn(net, c, { status: "pending", amount: "5.0000" }), {
    conversionsPerClick: null,
    fraud: { kind, detail: { seconds: 2 } },
  });
}

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "FraudRules");
  other = await buildNetwork(stack, "FraudRulesOther");
  publisher2 = (await call(stack, "POST", "/api/publishers", { token: net.adminToken, body: { name: "P2" } }))
    .body.data.id;
  const fast = click(net, "2025-05-02T10:00:00Z", { flags: ["ip_frequency"], hold: true });
  const slow = click(net, "2025-05-02T11:00:00Z", { publisher_id: publisher2 });
  await insertClickBatch(stack.db, [
    // Day 1 (UTC): two datacenter clicks (one refused as a verdict, one only flagged and counted).
    click(net, "2025-05-01T09:00:00Z", { verdict: "datacenter", flags: ["datacenter"] }),
    click(net, "2025-05-01T09:05:00Z", { flags: ["datacenter"] }),
    click(net, "2025-05-01T09:10:00Z", { verdict: "replay" }),
    // Day 2: a held click (ip_frequency, hold) and a link_frequency flag; two unverified clicks.
    fast,
    click(net, "2025-05-02T10:05:00Z", { flags: ["link_frequency"], publisher_id: publisher2 }),
    click(net, "2025-05-02T10:10:00Z", { unverified: true }),
    click(net, "2025-05-02T10:15:00Z", { unverified: true, publisher_id: publisher2 }),
    slow,
  ]);
  await conversionOn(fast, "conversion_too_fast");
  await conversionOn(slow, "conversion_too_slow");
  await insertClickBatch(stack.db, [
    click(other, "2025-05-01T09:00:00Z", { flags: ["datacenter"] }),
    click(other, "2025-05-01T09:00:00Z", { unverified: true }),
  ]);
});
afterAll(() => stack.close());

// To now: the conversions' fraud events are stamped when the conversion is recorded (today).
const URL = "/api/stats/fraud?from=2025-05-01&timezone=UTC";

describe("fraud insights", () => {
  it("count the fraud rules' events per kind and day, the held and the unverified clicks", async () => {
    const res = await call(stack, "GET", URL, { token: net.adminToken });
    expect(res.status, res.text).toBe(200);
    const d = res.body.data;
    expect(d.rules).toEqual({
      datacenter: 2,
      replay: 1,
      ip_frequency: 1,
      link_frequency: 1,
      conversion_too_fast: 1,
      conversion_too_slow: 1,
    });
    expect(d.rules_over_time).toEqual([
      { day: "2025-05-01", by_kind: { datacenter: 2, replay: 1 } },
      { day: "2025-05-02", by_kind: { ip_frequency: 1, link_frequency: 1 } },
      {
        day: new Date().toISOString().slice(0, 10),
        by_kind: { conversion_too_fast: 1, conversion_too_slow: 1 },
      },
    ]);
    expect(d.held_clicks).toBe(1);
    expect(d.unverified_clicks).toBe(2);
    // The verdict view beside it: one datacenter and one replay refused, the flagged ones counted.
    expect(d.totals).toMatchObject({
      clicks: 8,
      fraud_clicks: 2,
      by_verdict: { valid: 6, datacenter: 1, replay: 1 },
    });
  });

  it("in the caller's zone, scoped to a publisher's own events, and never another network's", async () => {
    // In Honolulu (UTC-10) the first day's events are on April 30.
    const hnl = await call(
      stack,
      "GET",
      "/api/stats/fraud?from=2025-04-30&to=2025-05-02&timezone=Pacific/Honolulu",
      {
        token: net.adminToken,
      },
    );
    expect(hnl.body.data.rules_over_time.map((r: { day: string }) => r.day)).toEqual([
      "2025-04-30",
      "2025-05-02",
    ]);
    const pub = await call(stack, "GET", URL, { token: net.publisherToken });
    expect(pub.status, pub.text).toBe(200);
    expect(pub.body.data.rules).toEqual({
      datacenter: 2,
      replay: 1,
      ip_frequency: 1,
      conversion_too_fast: 1,
    });
    expect(pub.body.data.unverified_clicks).toBe(1);
    expect(pub.body.data.held_clicks).toBe(1);
    const filtered = await call(stack, "GET", `${URL}&publisher_id=${publisher2}`, { token: net.adminToken });
    expect(filtered.body.data.rules).toEqual({ link_frequency: 1, conversion_too_slow: 1 });
    expect(filtered.body.data.unverified_clicks).toBe(1);
    const others = await call(stack, "GET", URL, { token: other.adminToken });
    expect(others.body.data.rules).toEqual({ datacenter: 1 });
    expect(others.body.data.unverified_clicks).toBe(1);
  });
});
