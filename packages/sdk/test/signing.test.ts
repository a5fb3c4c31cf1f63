// The SDK's own signing, retry and webhook code, checked against the API's implementation in
// @afftrack/core and against the `standardwebhooks` reference library.

import {
  computeLinkSignature,
  computeSeedSignature,
  signRequestV2 as coreSignV2,
  generateWebhookSecret,
  parseLinkToken,
  standardWebhookHeaders,
  verifySignatureV2,
} from "@afftrack/core";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  parseRetryAfter,
  seedSignature,
  seedWebhookSignature,
  sendWithRetry,
  signLink,
  signLinkToken,
  signRequestV2,
  verifySeedWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from "../src/index";

describe("request signatures", () => {
  it("seed signature equals the API's", async () => {
    const p = {
      apiKey: "ak_test",
      advertiserId: "adv_1",
      timestamp: 1_700_000_000_000,
      nonce: "abcdefgh12345678",
    };
    expect(await seedSignature(p)).toBe(await computeSeedSignature(p));
    // The seed's own recipe, by hand: hex HMAC-SHA256(api_key, "key|adv|ts|nonce").
    const { createHmac } = await import("node:crypto");
    expect(await seedSignature(p)).toBe(
      createHmac("sha256", p.apiKey).update("ak_test|adv_1|1700000000000|abcdefgh12345678").digest("hex"),
    );
  });

  it("v2 headers verify with the API's verifier, and not for another body or path", async () => {
    const body = '{"advertiser_id":"adv_1","amount":10}';
    const h = await signRequestV2({
      signingSecret: "ss_secret",
      method: "post",
      path: "/api/postback",
      body,
    });
    const core = await coreSignV2({
      secret: "ss_secret",
      method: "POST",
      path: "/api/postback",
      body,
      timestamp: Number(h["x-signature-timestamp"]),
      nonce: h["x-signature-nonce"] as string,
    });
    expect(h).toEqual(core);
    const sig = (h["x-signature"] as string).slice(3);
    const base = { secret: "ss_secret", method: "POST", timestamp: Number(h["x-signature-timestamp"]) };
    const nonce = h["x-signature-nonce"] as string;
    expect(await verifySignatureV2({ ...base, nonce, path: "/api/postback", body }, sig)).toBe(true);
    expect(await verifySignatureV2({ ...base, nonce, path: "/api/postback", body: `${body} ` }, sig)).toBe(
      false,
    );
    expect(await verifySignatureV2({ ...base, nonce, path: "/api/sdk/conversion", body }, sig)).toBe(false);
  });

  it("fresh nonces and timestamps each time", async () => {
    const a = await signRequestV2({ signingSecret: "s", method: "POST", path: "/p", body: "" });
    const b = await signRequestV2({ signingSecret: "s", method: "POST", path: "/p", body: "" });
    expect(a["x-signature-nonce"]).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(a["x-signature-nonce"]).not.toBe(b["x-signature-nonce"]);
  });
});

describe("link signing", () => {
  it("mints the token the edge parses and verifies", async () => {
    const token = await signLinkToken({
      secret: "lsec",
      trackingCode: "abc123",
      timestamp: 1_699_876_543_210,
    });
    const parsed = parseLinkToken(token);
    expect(parsed.kind).toBe("signed");
    if (parsed.kind !== "signed") return;
    expect(parsed.signature).toBe(
      await computeLinkSignature("lsec", "abc123", parsed.timestamp, parsed.nonce),
    );
    expect(
      await signLink({ trackingBaseUrl: "https://t.example/", secret: "lsec", trackingCode: "abc123" }),
    ).toMatch(/^https:\/\/t\.example\/c\/abc123\.\d{13}\.[A-Za-z0-9]{32}\.[0-9a-f]{16}$/);
  });
});

describe("retries", () => {
  const noSleep = { sleep: async () => {}, random: () => 0.5 };
  const req = async () => new Request("http://x.test/");

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it("backs off exponentially with full jitter, capped", () => {
    expect(backoffDelay(0, { random: () => 0.999 })).toBe(249);
    expect(backoffDelay(3, { random: () => 0.999 })).toBe(1998);
    expect(backoffDelay(10, { random: () => 0.999 })).toBe(7992);
    expect(backoffDelay(5, { random: () => 0 })).toBe(0);
  });

  it("waits what Retry-After asks, and gives up when it asks too much", async () => {
    const waits: number[] = [];
    const answers = [
      new Response("", { status: 503, headers: { "retry-after": "2" } }),
      new Response("ok", { status: 200 }),
    ];
    const r = await sendWithRetry(req, async () => answers.shift()!, "unsafe", {
      ...noSleep,
      sleep: async (ms) => void waits.push(ms),
    });
    expect({ status: r.response.status, attempts: r.attempts, waits }).toEqual({
      status: 200,
      attempts: 2,
      waits: [2000],
    });
    const long = await sendWithRetry(
      req,
      async () => new Response("", { status: 429, headers: { "retry-after": "3600" } }),
      "keyed",
      noSleep,
    );
    expect({ status: long.response.status, attempts: long.attempts }).toEqual({ status: 429, attempts: 1 });
  });

  it("retries network errors and 502 only when a repeat cannot count twice", async () => {
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new TypeError("fetch failed");
    };
    await expect(sendWithRetry(req, failing, "unsafe", noSleep)).rejects.toThrow("fetch failed");
    expect(calls).toBe(1);
    calls = 0;
    await expect(sendWithRetry(req, failing, "keyed", { ...noSleep, retries: 2 })).rejects.toThrow();
    expect(calls).toBe(3);
    const bad = await sendWithRetry(req, async () => new Response("", { status: 502 }), "unsafe", noSleep);
    expect(bad.attempts).toBe(1);
    const prepared: number[] = [];
    const ok = await sendWithRetry(
      async (attempt) => {
        prepared.push(attempt);
        return req();
      },
      async () => new Response("", { status: prepared.length < 3 ? 502 : 200 }),
      "idempotent",
      noSleep,
    );
    expect({ attempts: ok.attempts, prepared }).toEqual({ attempts: 3, prepared: [0, 1, 2] });
  });
});

describe("what an earlier attempt may have written", () => {
  const noSleep = { sleep: async () => {}, random: () => 0.5 };
  const req = async () => new Request("http://x.test/");
  const seq = (...steps: (number | "drop")[]) => {
    return async () => {
      const step = steps.shift();
      if (step === "drop") throw new TypeError("fetch failed");
      return new Response("", { status: step ?? 200 });
    };
  };

  it("is certain after 429/503 refusals, uncertain after a network error or a 500/502/504", async () => {
    const outcome = async (...steps: (number | "drop")[]) => {
      const r = await sendWithRetry(req, seq(...steps), "keyed", noSleep);
      return [r.response.status, r.attempts, r.uncertain];
    };
    expect(await outcome(409)).toEqual([409, 1, false]);
    expect(await outcome(429, 409)).toEqual([409, 2, false]);
    expect(await outcome(503, 429, 409)).toEqual([409, 3, false]);
    expect(await outcome("drop", 409)).toEqual([409, 2, true]);
    expect(await outcome(502, 429, 409)).toEqual([409, 3, true]);
    expect(await outcome(504, 409)).toEqual([409, 2, true]);
  });
});

describe("webhook verification", () => {
  const body = JSON.stringify({
    event: "conversion.created",
    timestamp: 1_700_000_000_000,
    data: { amount: 29.99 },
  });

  it("accepts what the standardwebhooks library signs, refuses tampering and stale deliveries", async () => {
    const secret = generateWebhookSecret();
    const now = new Date();
    const sig = new Webhook(secret).sign("msg_1", now, body);
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": `v1,${"A".repeat(44)} ${sig}`,
    };
    const event = await verifyWebhook({ secret, headers, body });
    expect(event.data).toEqual({ amount: 29.99 });
    // Headers objects too, and several secrets (rotation).
    await expect(
      verifyWebhook({ secret: [generateWebhookSecret(), secret], headers: new Headers(headers), body }),
    ).resolves.toMatchObject({ event: "conversion.created" });

    const reason = (p: Promise<unknown>) =>
      p.then(
        () => "accepted",
        (e: unknown) => (e instanceof WebhookVerificationError ? e.reason : String(e)),
      );
    expect(await reason(verifyWebhook({ secret, headers, body: body.replace("29.99", "2999") }))).toBe(
      "bad_signature",
    );
    expect(await reason(verifyWebhook({ secret: generateWebhookSecret(), headers, body }))).toBe(
      "bad_signature",
    );
    expect(
      await reason(verifyWebhook({ secret, headers: { ...headers, "webhook-id": "msg_2" }, body })),
    ).toBe("bad_signature");
    expect(
      await reason(verifyWebhook({ secret, headers, body, now: Number(headers["webhook-timestamp"]) + 301 })),
    ).toBe("expired");
    expect(await reason(verifyWebhook({ secret, headers: { "webhook-id": "x" }, body }))).toBe(
      "missing_headers",
    );
    expect(await reason(verifyWebhook({ secret: "not-a-secret", headers, body }))).toBe("bad_secret");
  });

  it("verifies what the API's sender signs, and the library verifies the same delivery", async () => {
    const secret = generateWebhookSecret();
    const ts = Math.floor(Date.now() / 1000);
    const headers = await standardWebhookHeaders([secret], "msg_core", ts, body);
    await expect(verifyWebhook({ secret, headers, body })).resolves.toMatchObject({
      event: "conversion.created",
    });
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ event: "conversion.created" });
  });

  it("checks the seed's payload signature", async () => {
    const secret = generateWebhookSecret();
    const payload = {
      event: "conversion.created",
      timestamp: Date.now(),
      data: { conversion_id: "conv_1" },
    };
    const { createHmac } = await import("node:crypto");
    const seedJs = createHmac("sha256", secret).update(JSON.stringify(payload)).digest("hex");
    expect(await seedWebhookSignature(secret, payload)).toBe(seedJs);
    expect(await verifySeedWebhook(secret, { ...payload, signature: seedJs })).toBe(true);
    expect(
      await verifySeedWebhook(secret, { ...payload, data: { conversion_id: "conv_2" }, signature: seedJs }),
    ).toBe(false);
    expect(await verifySeedWebhook(secret, payload)).toBe(false);
  });

  it("refuses a seed-signed delivery replayed outside the tolerance (timestamp in Unix ms)", async () => {
    const secret = generateWebhookSecret();
    const signed = async (timestamp: number) => {
      const payload = { event: "conversion.created", timestamp, data: { conversion_id: "conv_1" } };
      return { ...payload, signature: await seedWebhookSignature(secret, payload) };
    };
    const nowS = 1_800_000_000;
    const at = (offsetS: number) => signed(nowS * 1000 + offsetS * 1000);
    expect(await verifySeedWebhook(secret, await at(-299), { now: nowS })).toBe(true);
    expect(await verifySeedWebhook(secret, await at(299), { now: nowS })).toBe(true);
    // Validly signed, but captured and replayed later (or stamped in the future): refused.
    expect(await verifySeedWebhook(secret, await at(-301), { now: nowS })).toBe(false);
    expect(await verifySeedWebhook(secret, await at(301), { now: nowS })).toBe(false);
    expect(await verifySeedWebhook(secret, await signed(1_700_000_000_000))).toBe(false);
    // A receiver that accepts the sender's retries for a day says so.
    expect(await verifySeedWebhook(secret, await at(-3600), { now: nowS, toleranceSeconds: 86_400 })).toBe(
      true,
    );
    // A timestamp in seconds (another unit) is far outside the window, not silently accepted.
    expect(await verifySeedWebhook(secret, await signed(nowS), { now: nowS })).toBe(false);
  });
});
