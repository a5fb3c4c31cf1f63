// Per-key rate limits (60/minute, 1,000/hour; configurable): X-RateLimit-* on every response after
// authentication, the 61st request in a minute refused with 429, batch events counted one by one.

import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  conversionCount,
  conversionFields,
  ingestFixture,
  json,
  nonce,
  postSigned,
} from "../../../../tests/ingest-support";
import { type SharedTestStack, sharedStack, waitFor } from "../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

/** Sliding windows weigh the previous minute in; starting well inside a minute keeps counts exact. */
async function awayFromMinuteEdge() {
  const into = Date.now() % 60_000;
  if (into > 40_000) await new Promise((r) => setTimeout(r, 60_000 - into + 200));
}

/** `n` batch conversion events of the fixture's offer, transaction ids `{tag}_0`... */
function conversionEvents(f: { offer_id: string }, n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({
    type: "conversion",
    ...conversionFields(f),
    transaction_id: `${tag}_${i}`,
  }));
}

function limitHeaders(res: Response) {
  return {
    limit: res.headers.get("x-ratelimit-limit"),
    remaining: Number(res.headers.get("x-ratelimit-remaining")),
    reset: Number(res.headers.get("x-ratelimit-reset")),
  };
}

describe("rate limits", () => {
  it("allows 60 requests a minute per key and refuses the 61st with 429 and headers", async () => {
    await awayFromMinuteEdge();
    const f = await ingestFixture(stack);
    const first = await postSigned(stack, "/api/postback", f, conversionFields(f));
    expect(first.status).toBe(200);
    const h = limitHeaders(first);
    expect(h).toMatchObject({ limit: "60", remaining: 59 });
    expect(h.reset).toBeGreaterThan(Date.now() / 1000);
    expect(h.reset).toBeLessThanOrEqual(Date.now() / 1000 + 61);

    const rest = await Promise.all(
      Array.from({ length: 59 }, () => postSigned(stack, "/api/postback", f, conversionFields(f))),
    );
    expect(rest.map((r) => r.status)).toEqual(Array(59).fill(200));
    expect(rest.map((r) => limitHeaders(r).remaining).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 59 }, (_, i) => i),
    );

    const sixtyFirst = await postSigned(stack, "/api/postback", f, conversionFields(f));
    expect(sixtyFirst.status).toBe(429);
    expect(await json(sixtyFirst)).toMatchObject({ success: false, code: "RATE_LIMITED" });
    expect(limitHeaders(sixtyFirst)).toMatchObject({ limit: "60", remaining: 0 });
    expect(Number(sixtyFirst.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(60);

    // Limits are per key: another key of the same advertiser is not affected.
    const other = await ingestFixture(stack);
    expect((await postSigned(stack, "/api/postback", other, conversionFields(other))).status).toBe(200);
  }, 90_000);

  it("puts the headers on refusals after authentication too, and counts them", async () => {
    await awayFromMinuteEdge();
    const f = await ingestFixture(stack);
    const first = await postSigned(stack, "/api/postback", f, conversionFields(f), { nonce: "a".repeat(32) });
    expect(first.status).toBe(200);
    const replay = await postSigned(stack, "/api/postback", f, conversionFields(f), {
      nonce: "a".repeat(32),
    });
    expect(replay.status).toBe(409);
    expect(limitHeaders(replay)).toMatchObject({ limit: "60", remaining: 58 });
    const notFound = await postSigned(
      stack,
      "/api/postback",
      f,
      conversionFields({ offer_id: "off_missing" }),
    );
    expect(notFound.status).toBe(404);
    expect(limitHeaders(notFound)).toMatchObject({ limit: "60", remaining: 57 });
  });

  it("counts each batch event, grants what remains and refuses the rest per event", async () => {
    await awayFromMinuteEdge();
    const f = await ingestFixture(stack);
    const events = (n: number, tag: string) => conversionEvents(f, n, tag);
    const first = await postSigned(stack, "/api/sdk/batch", f, { events: events(50, "a") });
    expect(first.status).toBe(200);
    expect((await json(first)).data.accepted).toBe(50);
    expect(limitHeaders(first).remaining).toBe(10);

    const second = await postSigned(stack, "/api/sdk/batch", f, { events: events(20, "b") });
    const body = await json(second);
    expect(second.status).toBe(200);
    expect(body.data).toMatchObject({ accepted: 10, rejected: 10 });
    expect(body.data.results.slice(10).map((r: { code: string }) => r.code)).toEqual(
      Array(10).fill("RATE_LIMITED"),
    );
    expect(limitHeaders(second).remaining).toBe(0);

    const third = await postSigned(stack, "/api/sdk/batch", f, { events: events(1, "c") });
    expect(third.status).toBe(429);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(60);
  }, 90_000);
});

describe("configured limits", () => {
  let limited: SharedTestStack;
  beforeAll(() => {
    limited = sharedStack("hourlyLimit");
  });
  afterAll(() => limited.close());

  it("enforces the hourly window and reports whichever window is tighter", async () => {
    const f = await ingestFixture(limited);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await postSigned(limited, "/api/postback", f, conversionFields(f));
      statuses.push(last.status);
      if (i === 0) expect(limitHeaders(last)).toMatchObject({ limit: "5", remaining: 4 });
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(limitHeaders(last!)).toMatchObject({ limit: "5", remaining: 0 });
    // The reset of an hour window is up to an hour away.
    expect(limitHeaders(last!).reset).toBeLessThanOrEqual(Date.now() / 1000 + 3601);
  });

  it("gives a rate-limited request's nonce back, so the same signed request can be retried", async () => {
    const f = await ingestFixture(limited);
    for (let i = 0; i < 5; i++) {
      expect((await postSigned(limited, "/api/postback", f, conversionFields(f))).status).toBe(200);
    }
    const n = nonce();
    const refused = await postSigned(limited, "/api/postback", f, conversionFields(f), { nonce: n });
    expect(refused.status).toBe(429);
    const redis = new Redis({ url: limited.redisRestUrl, token: limited.redisRestToken });
    // Given back after the answer (waitUntil): the key goes within moments.
    await waitFor(
      async () => (await redis.exists(`ingest:nonce:${f.key.id}:${n}`)) === 0,
      5000,
      "nonce released",
    );
  });

  it("never grants concurrent batches of one key more than the limit between them", async () => {
    await awayFromMinuteEdge();
    const f = await ingestFixture(stack);
    const events = (n: number, tag: string) => conversionEvents(f, n, tag);
    const responses = await Promise.all(
      ["p", "q", "r"].map((tag) => postSigned(stack, "/api/sdk/batch", f, { events: events(40, tag) })),
    );
    let accepted = 0;
    for (const res of responses) {
      if (res.status === 200) accepted += (await json(res)).data.accepted;
      else expect(res.status).toBe(429);
    }
    expect(accepted).toBe(60);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(60);
  }, 90_000);
});
