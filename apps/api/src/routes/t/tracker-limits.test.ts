// Rate limits of the tracker and the widget (the trackerLimits stack: 3 postbacks per minute per
// access key, 5 per client IP, 4 widget requests per client IP, 2 sockets per widget channel):
// past a limit, 429 in the seed envelope with Retry-After, and nothing is written.

import { SEED_TRACKER_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SharedTestStack, sharedStack } from "../../../../../tests/support";
import {
  type TrackerSetup,
  trackerSetup,
  tryWidgetSocket,
  widgetPath,
} from "../../../../../tests/tracker-helpers";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack("trackerLimits");
});
afterAll(() => stack.close());

/** A client address of its own (each test its own limits, also across runs within the hour). */
function freshIp(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `10.${octet()}.${octet()}.${octet()}`;
}

async function post(s: TrackerSetup, ip: string, influencer = "lim") {
  const res = await fetch(`${stack.apiUrl}/t/${s.key}`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip },
    body: JSON.stringify({ ...SEED_TRACKER_REQUEST, product: s.product, influencer_id: influencer }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

function eventCount(s: TrackerSetup) {
  return stack.db
    .selectFrom("tracker_events")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("customer_id", "=", s.customer_id)
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.n));
}

function expectRateLimited(res: { status: number; headers: Headers; body: unknown }) {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ success: false, error: expect.any(String), code: "RATE_LIMITED" });
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe("POST /t/{access_key} rate limits", () => {
  it("refuses a key past its limit with 429 and Retry-After, from any IP, writing nothing", async () => {
    const s = await trackerSetup(stack);
    for (let i = 0; i < 3; i++) expect((await post(s, freshIp())).status).toBe(200);
    const refused = await post(s, freshIp());
    expectRateLimited(refused);
    expect(await eventCount(s)).toBe(3);
  });

  it("refuses a client IP past its limit across keys", async () => {
    const ip = freshIp();
    const a = await trackerSetup(stack);
    const b = await trackerSetup(stack);
    const c = await trackerSetup(stack);
    for (const s of [a, a, b, b, c]) expect((await post(s, ip)).status).toBe(200);
    // The limiter's sliding window weighs the previous minute's count down as the minute turns
    // over, so a run straddling a minute boundary may be let through once more; never twice.
    let refused = await post(c, ip);
    if (refused.status === 200) refused = await post(c, ip);
    expectRateLimited(refused);
    expect(await eventCount(c)).toBeLessThanOrEqual(2);
    // Another client is not held back by that one.
    expect((await post(c, freshIp())).status).toBe(200);
  });

  it("counts unknown keys against the client too, so guessing keys is bounded", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${stack.apiUrl}/t/tk_${String(i).repeat(40)}`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: "{}",
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});

describe("widget limits", () => {
  it("count.json: 429 past the client's limit", async () => {
    const s = await trackerSetup(stack);
    const ip = freshIp();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${stack.apiUrl}${widgetPath(s, "lim_w")}/count.json`, {
        headers: { "cf-connecting-ip": ip },
      });
      statuses.push(last.status);
      if (i < 4) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expectRateLimited({
      status: last?.status ?? 0,
      headers: last?.headers as Headers,
      body: await last?.json(),
    });
  });

  it("a widget channel takes at most WIDGET_SOCKET_CAP sockets, then refuses the upgrade with 429", async () => {
    const s = await trackerSetup(stack);
    const open = (ip: string) =>
      tryWidgetSocket(stack, widgetPath(s, "lim_sock"), { "cf-connecting-ip": ip });
    const first = await open(freshIp());
    const second = await open(freshIp());
    expect([first.status, second.status]).toEqual([101, 101]);
    const third = await open(freshIp());
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({ success: false, code: "RATE_LIMITED" });
    // A widget leaving frees its place.
    await new Promise<void>((resolve) => {
      first.ws?.once("close", () => resolve());
      first.ws?.close();
    });
    let again: Awaited<ReturnType<typeof open>> | undefined;
    for (let i = 0; i < 20 && again?.status !== 101; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      again = await open(freshIp());
    }
    expect(again?.status).toBe(101);
    again?.ws?.close();
    second.ws?.close();
  });
});
