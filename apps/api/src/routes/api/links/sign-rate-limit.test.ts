// POST /api/links/sign is rate-limited per publisher (issue 13 #11): 600 a minute in production,
// 5 in this variant, with X-RateLimit-* headers and 429 RATE_LIMITED once spent.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack("hourlyLimit");
});
afterAll(() => stack.close());

describe("POST /api/links/sign rate limit", () => {
  it("answers 429 RATE_LIMITED after the publisher's per-minute allowance, with X-RateLimit headers", async () => {
    const net = await buildNetwork(stack);
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;
    const sign = () =>
      fetch(`${stack.apiUrl}/api/links/sign`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${net.publisherToken}` },
        body: JSON.stringify({ tracking_code: joined.tracking_code, ttl_minutes: 5 }),
      });
    const first = await sign();
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit")).toBe("5");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("4");
    const rest = await Promise.all(Array.from({ length: 9 }, () => sign()));
    expect(rest.filter((r) => r.status === 200)).toHaveLength(4);
    const refused = rest.filter((r) => r.status === 429);
    expect(refused).toHaveLength(5);
    expect(await refused[0]?.json()).toMatchObject({ success: false, code: "RATE_LIMITED" });
    expect(refused[0]?.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
