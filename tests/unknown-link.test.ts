// Unknown link codes are negative-cached in Redis by the edge (issue 13 #11): a made-up code costs
// one lookup through the API (Postgres), then the edge answers from Redis for 30 s; and the marker
// never hides a link the API writes afterwards.

import { randomBytes } from "node:crypto";
import { linkKey } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, visitLink } from "./management-helpers";
import { type SharedTestStack, sharedStack } from "./support";

let stack: SharedTestStack;
let redis: Redis;

beforeAll(() => {
  // No isolate cache at the edge, so every visit asks Redis.
  stack = sharedStack("noLinkCache");
  redis = new Redis({
    url: stack.redisRestUrl,
    token: stack.redisRestToken,
    automaticDeserialization: false,
  });
});
afterAll(() => stack.close());

describe("unknown link codes at the edge", () => {
  it("remembers a made-up code in Redis, so repeated visits do not each reach Postgres", async () => {
    const code = randomBytes(6).toString("hex");
    const first = await visitLink(stack, `${stack.edgeUrl}/c/${code}`);
    await first.arrayBuffer();
    expect(first.status).toBeLessThan(500);
    expect(await redis.get(linkKey(code))).toBe("unknown");
    const ttl = await redis.ttl(linkKey(code));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    // The marker answers the next visits alike (and is not refreshed by them: its TTL only falls).
    const again = await visitLink(stack, `${stack.edgeUrl}/c/${code}`);
    await again.arrayBuffer();
    expect(again.status).toBe(first.status);
    expect(await redis.ttl(linkKey(code))).toBeLessThanOrEqual(ttl);
  });

  it("never hides a real link: the API's record replaces the marker", async () => {
    const net = await buildNetwork(stack);
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;
    // A marker written for the code (as if it had been probed before it existed) ...
    await redis.set(linkKey(joined.tracking_code), "unknown", { ex: 30 });
    // ... is replaced by the record whenever the API writes it (any change the edge depends on).
    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { name: "Renamed" },
    });
    const raw = await redis.get<string>(linkKey(joined.tracking_code));
    expect(raw).not.toBe("unknown");
  });
});
