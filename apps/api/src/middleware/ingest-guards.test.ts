// Every refusal of the ingestion guards with the seed's status and code, and that a refused request
// writes nothing: keys (missing, unknown, revoked, rotated, expired), signatures (seed and v2), time
// window, replays, body limits and field errors, in the order docs/ingestion-api.md gives.

import { randomBase62 } from "@afftrack/core";
import { revokeApiKey, rotateApiKey } from "@afftrack/db";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clickCount,
  conversionCount,
  conversionFields,
  expectRefused,
  ingestFixture,
  json,
  nonce,
  postRaw,
  postSigned,
  postV2,
  refusedWithin,
  seedSigned,
} from "../../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("API keys", () => {
  it("refuses a missing, unknown or malformed key with 401 INVALID_API_KEY", async () => {
    const f = await ingestFixture(stack);
    const body = await seedSigned(f, conversionFields(f), { includeKey: false });
    await expectRefused(await postRaw(stack, "/api/postback", JSON.stringify(body)), 401, "INVALID_API_KEY");
    const unknown = `ak_${randomBase62(40)}`;
    await expectRefused(
      await postSigned(stack, "/api/postback", { ...f, api_key: unknown }, conversionFields(f)),
      401,
      "INVALID_API_KEY",
    );
    await expectRefused(
      await postSigned(stack, "/api/postback", { ...f, api_key: "your_api_key" }, conversionFields(f)),
      401,
      "INVALID_API_KEY",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
  });

  it("refuses a body api_key that differs from X-API-Key, and another advertiser's advertiser_id", async () => {
    const f = await ingestFixture(stack);
    const other = await ingestFixture(stack);
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f), { apiKeyHeader: other.api_key }),
      401,
      "INVALID_API_KEY",
    );
    await expectRefused(
      await postSigned(
        stack,
        "/api/postback",
        { api_key: f.api_key, advertiser_id: other.advertiser_id },
        conversionFields(other),
      ),
      401,
      "INVALID_API_KEY",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
    expect(await conversionCount(stack, other.advertiser_id)).toBe(0);
  });

  it("refuses a revoked key everywhere within the isolate cache's bound", async () => {
    const f = await ingestFixture(stack);
    expect((await postSigned(stack, "/api/postback", f, conversionFields(f))).status).toBe(200);
    expect(await revokeApiKey(stack.db, f.key.id)).toBe(true);
    const refused = await refusedWithin(() => postSigned(stack, "/api/postback", f, conversionFields(f)));
    await expectRefused(refused, 401, "INVALID_API_KEY");
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f)),
      401,
      "INVALID_API_KEY",
    );
  });

  it("keeps both keys valid during a rotation's overlap, and only the new one after it", async () => {
    const f = await ingestFixture(stack);
    const rotated = await rotateApiKey(stack.db, f.key.id);
    expect(rotated).not.toBeNull();
    const next = { api_key: rotated!.key, advertiser_id: f.advertiser_id };
    expect(rotated!.prefix).toBe(rotated!.key.slice(0, 10));
    const old = await stack.db
      .selectFrom("api_keys")
      .select(["expires_at", "status"])
      .where("id", "=", f.key.id)
      .executeTakeFirstOrThrow();
    const hours = (old.expires_at!.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    expect((await postSigned(stack, "/api/postback", f, conversionFields(f))).status).toBe(200);
    expect((await postSigned(stack, "/api/postback", next, conversionFields(f))).status).toBe(200);
    // The overlap ends: the old key is refused (within the isolate cache's bound), the new one works.
    await stack.db
      .updateTable("api_keys")
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where("id", "=", f.key.id)
      .execute();
    const refused = await refusedWithin(() => postSigned(stack, "/api/postback", f, conversionFields(f)));
    await expectRefused(refused, 401, "INVALID_API_KEY");
    expect((await postSigned(stack, "/api/postback", next, conversionFields(f))).status).toBe(200);
    // A key past its overlap cannot be rotated again.
    expect(await rotateApiKey(stack.db, f.key.id)).toBeNull();
  });

  it("stores keys hashed, showing only the prefix", async () => {
    const f = await ingestFixture(stack);
    const row = await stack.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", f.key.id)
      .executeTakeFirstOrThrow();
    expect(row.prefix).toBe(f.api_key.slice(0, 10));
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(f.api_key);
  });
});

describe("seed signatures, time window and nonces", () => {
  it("refuses a wrong signature with 403 INVALID_SIGNATURE", async () => {
    const f = await ingestFixture(stack);
    const other = await ingestFixture(stack);
    const body = await seedSigned(f, conversionFields(f), { signWith: other.api_key });
    await expectRefused(
      await postRaw(stack, "/api/postback", JSON.stringify(body), { apiKeyHeader: f.api_key }),
      403,
      "INVALID_SIGNATURE",
    );
    const tampered = { ...(await seedSigned(f, conversionFields(f))), signature: "0".repeat(64) };
    await expectRefused(
      await postRaw(stack, "/api/postback", JSON.stringify(tampered), { apiKeyHeader: f.api_key }),
      403,
      "INVALID_SIGNATURE",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
  });

  it("refuses timestamps more than 5 minutes off with 401 EXPIRED_REQUEST", async () => {
    const f = await ingestFixture(stack);
    for (const timestamp of [
      Date.now() - 6 * 60_000,
      Date.now() + 6 * 60_000,
      Math.floor(Date.now() / 1000),
    ]) {
      await expectRefused(
        await postSigned(stack, "/api/postback", f, conversionFields(f), { timestamp }),
        401,
        "EXPIRED_REQUEST",
      );
    }
    expect(
      (
        await postSigned(stack, "/api/postback", f, conversionFields(f), {
          timestamp: Date.now() - 4 * 60_000,
        })
      ).status,
    ).toBe(200);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(1);
  });

  it("accepts a nonce once per key: a replay is 409 REPLAYED_REQUEST and writes nothing", async () => {
    const f = await ingestFixture(stack);
    const body = JSON.stringify(await seedSigned(f, conversionFields(f)));
    expect((await postRaw(stack, "/api/postback", body, { apiKeyHeader: f.api_key })).status).toBe(200);
    await expectRefused(
      await postRaw(stack, "/api/postback", body, { apiKeyHeader: f.api_key }),
      409,
      "REPLAYED_REQUEST",
    );
    // Same nonce, new transaction: still a replay.
    const n = nonce();
    expect((await postSigned(stack, "/api/postback", f, conversionFields(f), { nonce: n })).status).toBe(200);
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f), { nonce: n }),
      409,
      "REPLAYED_REQUEST",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(2);
    // Another key may use the same nonce.
    const g = await ingestFixture(stack);
    expect((await postSigned(stack, "/api/postback", g, conversionFields(g), { nonce: n })).status).toBe(200);
  });
});

describe("v2 signatures (signing secret over method, path, timestamp, nonce, body hash)", () => {
  const v2Body = (f: { advertiser_id: string; offer_id: string }, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ advertiser_id: f.advertiser_id, ...conversionFields(f), ...extra });

  it("accepts a v2-signed postback without signature fields in the body", async () => {
    const f = await ingestFixture(stack);
    const res = await postV2(stack, "/api/postback", f.key, v2Body(f));
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.conversion_id).toMatch(/^conv_/);
  });

  it("refuses a changed body, path or secret with 403, and a replayed v2 nonce with 409", async () => {
    const f = await ingestFixture(stack);
    const body = v2Body(f, { amount: 10 });
    await expectRefused(
      await postV2(stack, "/api/postback", f.key, body.replace('"amount":10', '"amount":1000'), {
        signBody: body,
      }),
      403,
      "INVALID_SIGNATURE",
    );
    await expectRefused(
      await postV2(stack, "/api/postback", f.key, body, { signPath: "/api/sdk/conversion" }),
      403,
      "INVALID_SIGNATURE",
    );
    await expectRefused(
      await postV2(stack, "/api/postback", { ...f.key, signing_secret: `ss_${randomBase62(40)}` }, body),
      403,
      "INVALID_SIGNATURE",
    );
    await expectRefused(
      await postV2(stack, "/api/postback", f.key, body, { timestamp: Date.now() - 10 * 60_000 }),
      401,
      "EXPIRED_REQUEST",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
    const n = nonce();
    expect((await postV2(stack, "/api/postback", f.key, body, { nonce: n })).status).toBe(200);
    await expectRefused(
      await postV2(stack, "/api/postback", f.key, v2Body(f), { nonce: n }),
      409,
      "REPLAYED_REQUEST",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(1);
  });

  it("lets an advertiser require v2: the seed's signature is then refused", async () => {
    const f = await ingestFixture(stack);
    await stack.db
      .updateTable("advertisers")
      .set({ require_strong_signature: true })
      .where("id", "=", f.advertiser_id)
      .execute();
    const refused = await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f)),
      403,
      "INVALID_SIGNATURE",
    );
    expect(refused.error).toContain("v2");
    expect((await postV2(stack, "/api/postback", f.key, v2Body(f))).status).toBe(200);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(1);
  });

  it("refuses v2 for a key that has no signing secret", async () => {
    const f = await stack.fixture(); // devstack keys carry no signing secret
    await expectRefused(
      await postV2(stack, "/api/postback", { key: f.api_key, signing_secret: "ss_guess" }, v2Body(f)),
      403,
      "INVALID_SIGNATURE",
    );
  });
});

describe("bodies", () => {
  it("refuses a body over 64 KiB with 413 before parsing, by Content-Length and by bytes", async () => {
    const f = await ingestFixture(stack);
    const big = JSON.stringify({
      ...(await seedSigned(f, conversionFields(f))),
      metadata: { pad: "x".repeat(1000) },
      pad: "y".repeat(70 * 1024),
    });
    await expectRefused(
      await postRaw(stack, "/api/postback", big, { apiKeyHeader: f.api_key }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    // Over the API's socket: Node sends a stream with Transfer-Encoding: chunked, no Content-Length.
    const chunked = (await fetch(new URL("/api/postback", stack.apiUrl), {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": f.api_key },
      body: stream,
      duplex: "half",
    } as RequestInit)) as unknown as Response;
    await expectRefused(chunked, 413, "PAYLOAD_TOO_LARGE");
    // Just under the limit is parsed (and refused only for what it says).
    const fits = JSON.stringify({
      ...(await seedSigned(f, conversionFields(f))),
      pad: "z".repeat(60 * 1024),
    });
    expect((await postRaw(stack, "/api/postback", fits, { apiKeyHeader: f.api_key })).status).toBe(200);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(1);
  });

  it("refuses a body that is not JSON with 415, before looking at the key", async () => {
    const res = await postRaw(stack, "/api/postback", "offer_id=off_1&amount=10", {
      apiKeyHeader: `ak_${"x".repeat(40)}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectRefused(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers malformed JSON with 400 INVALID_PARAMS and rate-limit headers", async () => {
    const f = await ingestFixture(stack);
    const res = await postRaw(stack, "/api/postback", '{"advertiser_id": ', { apiKeyHeader: f.api_key });
    await expectRefused(res, 400, "INVALID_PARAMS");
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(60);
    expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    await expectRefused(await postRaw(stack, "/api/postback", "not json"), 400, "INVALID_PARAMS");
  });

  it("names the missing or invalid field", async () => {
    const f = await ingestFixture(stack);
    const { offer_id: _o, ...noOffer } = conversionFields(f);
    const missing = await expectRefused(
      await postSigned(stack, "/api/postback", f, noOffer),
      400,
      "INVALID_PARAMS",
    );
    expect(missing.error).toContain('"offer_id"');
    const badCurrency = await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f, { currency: "ABC" })),
      400,
      "INVALID_PARAMS",
    );
    expect(badCurrency.error).toContain('"currency"');
    const badAmount = await expectRefused(
      await postSigned(stack, "/api/sdk/conversion", f, conversionFields(f, { amount: -0.01 })),
      400,
      "INVALID_PARAMS",
    );
    expect(badAmount.error).toContain('"amount"');
    const badPlatform = await expectRefused(
      await postSigned(
        stack,
        "/api/sdk/click",
        f,
        { offer_id: f.offer_id, tracking_code: f.tracking_code },
        {
          headers: { "x-sdk-platform": "windows-phone" },
        },
      ),
      400,
      "INVALID_PARAMS",
    );
    expect(badPlatform.error).toContain("X-SDK-Platform");
    const badCode = await expectRefused(
      await postSigned(stack, "/api/sdk/click", f, { offer_id: f.offer_id, tracking_code: "notourcode" }),
      400,
      "INVALID_PARAMS",
    );
    expect(badCode.error).toContain('"tracking_code"');
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
    expect(await clickCount(stack, f.advertiser_id)).toBe(0);
  });
});

describe("Redis round trips", () => {
  it("costs one round trip per postback: rate-limit windows and nonce claim pipelined together", async () => {
    const quiet = sharedStack("roundTrips");
    try {
      const f = await ingestFixture(quiet);
      const trips = async () =>
        ((await (await fetch(`${quiet.redisRestUrl}/__stats`)).json()) as { requests: number }).requests;
      // The first postback loads the limiter's scripts (EVALSHA misses once, then EVAL).
      expect((await postSigned(quiet, "/api/postback", f, conversionFields(f))).status).toBe(200);
      const before = await trips();
      for (let i = 0; i < 5; i++) {
        expect((await postSigned(quiet, "/api/postback", f, conversionFields(f))).status).toBe(200);
      }
      expect((await trips()) - before).toBe(5);
    } finally {
      await quiet.close();
    }
  });
});
