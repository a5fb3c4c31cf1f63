// Webhook signatures: the Standard Webhooks headers checked by the `standardwebhooks` package (an
// independent implementation), the body's `signature` by the seed's own JavaScript recipe, and the
// postback `{signature}` by its documented recipe.

import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  deliveryIdOf,
  fillPostbackUrl,
  generateWebhookSecret,
  type PostbackValues,
  parseRetryAfter,
  postbackSignature,
  postbackSignatureBase,
  QUEUE_MAX_DELAY_SECONDS,
  queueDelaySeconds,
  signedWebhookBody,
  standardWebhookHeaders,
  WEBHOOK_MAX_ATTEMPTS,
  webhookPayloadText,
  webhookRetryDelayMs,
  webhookSecretKey,
} from "../src/index";

/** The seed's recipe, verbatim in substance (afftok-api-reference.md, "Verifying Webhooks"). */
function verifyWebhook(payload: unknown, signature: string, webhookSecret: string): boolean {
  const expectedSignature = createHmac("sha256", webhookSecret).update(JSON.stringify(payload)).digest("hex");
  return signature === expectedSignature;
}

const seedPayload = {
  event: "conversion.created",
  timestamp: 1234567890000,
  data: {
    conversion_id: "conv_abc123",
    offer_id: "offer_123",
    transaction_id: "txn_abc123",
    amount: 29.99,
    currency: "USD",
    status: "approved",
  },
};

describe("webhook secrets", () => {
  it("are whsec_ + base64 of 24 random bytes", () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(webhookSecretKey(a)?.length).toBe(24);
    expect(generateWebhookSecret()).not.toBe(a);
    expect(webhookSecretKey("sk_nope")).toBeNull();
  });
});

describe("the body's seed signature", () => {
  it("verifies with the seed's recipe, and fails with another secret or a changed amount", async () => {
    const secret = generateWebhookSecret();
    const body = await signedWebhookBody(secret, webhookPayloadText(seedPayload));
    const { signature, ...payload } = JSON.parse(body) as { signature: string };
    expect(payload).toEqual(seedPayload);
    expect(Object.keys(JSON.parse(body))).toEqual(["event", "timestamp", "data", "signature"]);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyWebhook(payload, signature, secret)).toBe(true);
    expect(verifyWebhook(payload, signature, generateWebhookSecret())).toBe(false);
    const tampered = { ...seedPayload, data: { ...seedPayload.data, amount: 2999 } };
    expect(verifyWebhook(tampered, signature, secret)).toBe(false);
  });

  it("matches a fixed vector", async () => {
    // HMAC-SHA256("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", JSON.stringify(seed payload)), by node:crypto.
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const expected = createHmac("sha256", secret).update(JSON.stringify(seedPayload)).digest("hex");
    const body = await signedWebhookBody(secret, webhookPayloadText(seedPayload));
    expect(JSON.parse(body).signature).toBe(expected);
  });
});

describe("Standard Webhooks headers", () => {
  it("verify with the standardwebhooks package; a replayed old timestamp is refused", async () => {
    const secret = generateWebhookSecret();
    const body = await signedWebhookBody(secret, webhookPayloadText(seedPayload));
    const id = await deliveryIdOf("evt_1", "whe_1");
    const now = Math.floor(Date.now() / 1000);
    const headers = await standardWebhookHeaders([secret], id, now, body);
    expect(headers["webhook-id"]).toBe(id);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    const old = await standardWebhookHeaders([secret], id, now - 3600, body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/timestamp/i);
  });

  it("carry one signature per active secret during a rotation: either secret verifies", async () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const body = "{}";
    const headers = await standardWebhookHeaders(
      [newSecret, oldSecret],
      "msg_x",
      Math.floor(Date.now() / 1000),
      body,
    );
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it("derive one webhook-id per event and endpoint, never another", async () => {
    const a = await deliveryIdOf("evt_1", "whe_1");
    expect(a).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(await deliveryIdOf("evt_1", "whe_1")).toBe(a);
    expect(await deliveryIdOf("evt_1", "whe_2")).not.toBe(a);
    expect(await deliveryIdOf("evt_2", "whe_1")).not.toBe(a);
  });
});

describe("postback macros", () => {
  const values: PostbackValues = {
    click_id: "clk_1",
    transaction_id: "txn 1&x=2",
    conversion_id: "conv_1",
    sub1: "a/b?c",
    sub2: "é",
    sub3: "",
    sub4: "#frag",
    sub5: "+",
    payout: "1.5000",
    currency: "USD",
    status: "approved",
    offer_id: "off_1",
    event_name: "purchase",
    timestamp: "1700000000",
    signature: "ab",
  };

  it("URL-encodes every value, so none adds a parameter or changes the host", () => {
    const url = fillPostbackUrl(
      "https://t.example/pb?tx={transaction_id}&s1={sub1}&s2={sub2}&s3={sub3}&s4={sub4}&s5={sub5}&p={payout}&x={unknown}",
      values,
    );
    expect(url).toBe(
      "https://t.example/pb?tx=txn%201%26x%3D2&s1=a%2Fb%3Fc&s2=%C3%A9&s3=&s4=%23frag&s5=%2B&p=1.5000&x={unknown}",
    );
    const q = new URL(url).searchParams;
    expect(q.get("tx")).toBe("txn 1&x=2");
    expect(q.get("s4")).toBe("#frag");
    expect([...q.keys()]).toEqual(["tx", "s1", "s2", "s3", "s4", "s5", "p", "x"]);
  });

  it("signs with the documented recipe", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const base = postbackSignatureBase({
      conversion_id: "conv_1",
      transaction_id: "txn_1",
      status: "approved",
      payout: "1.5000",
      currency: "USD",
      timestamp: 1700000000,
    });
    expect(base).toBe("conv_1.txn_1.approved.1.5000.USD.1700000000");
    expect(await postbackSignature(secret, base)).toBe(
      createHmac("sha256", secret).update(base).digest("hex"),
    );
  });
});

describe("retry schedule", () => {
  it("follows Standard Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then stops", () => {
    const mid = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => webhookRetryDelayMs(n, { random: 0.5 }));
    expect(mid).toEqual([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400].map((s) => s * 1000));
    expect(webhookRetryDelayMs(10, { random: 0.5 })).toBeNull();
    expect(WEBHOOK_MAX_ATTEMPTS).toBe(10);
  });

  it("jitters by ±10 % and scales for a fast clock", () => {
    expect(webhookRetryDelayMs(2, { random: 0 })).toBe(270_000);
    expect(webhookRetryDelayMs(2, { random: 0.999999 })).toBe(330_000);
    expect(webhookRetryDelayMs(9, { random: 0.5, scale: 0.001 })).toBe(86_400);
  });

  it("honours a longer Retry-After, never a shorter one", () => {
    expect(webhookRetryDelayMs(1, { random: 0.5, retryAfterMs: 120_000 })).toBe(120_000);
    expect(webhookRetryDelayMs(3, { random: 0.5, retryAfterMs: 1000 })).toBe(1_800_000);
    expect(parseRetryAfter("120", 0)).toBe(120_000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.UTC(2015, 9, 21, 7, 27, 0))).toBe(60_000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
  });

  it("chains hops where a step is longer than the queue's 12 h delay", () => {
    const now = 1_000_000;
    expect(queueDelaySeconds(now + 86_400_000, now)).toBe(QUEUE_MAX_DELAY_SECONDS);
    expect(queueDelaySeconds(now + 5_500, now)).toBe(5);
    expect(queueDelaySeconds(now + 500, now)).toBe(0);
    expect(queueDelaySeconds(now - 500, now)).toBe(0);
  });
});
