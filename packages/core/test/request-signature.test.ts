// The seed's request signature, checked against its JavaScript and Python recipes, and the v2
// scheme's canonical string, checked against an independent Python implementation.

import { execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalRequestV2,
  checkRequestTime,
  computeSeedSignature,
  computeSignatureV2,
  parseSignatureV2Header,
  REQUEST_MAX_SKEW_MS,
  seedSignaturePayload,
  signRequestV2,
  verifySeedSignature,
  verifySignatureV2,
} from "../src/index";

// The seed's JavaScript recipe (afftok-api-reference.md, "Signature Generation").
function seedJs(apiKey: string, advertiserId: string, timestamp: number, nonce: string) {
  const dataToSign = `${apiKey}|${advertiserId}|${timestamp}|${nonce}`;
  return createHmac("sha256", apiKey).update(dataToSign).digest("hex");
}

function python(script: string, args: string[]): string {
  return execFileSync("python3", ["-c", script, ...args])
    .toString()
    .trim();
}

// The seed's Python recipe, verbatim.
const SEED_PY = `
import hmac, hashlib, sys
def generate_signature(api_key, advertiser_id, timestamp, nonce):
    data_to_sign = f"{api_key}|{advertiser_id}|{timestamp}|{nonce}"
    return hmac.new(api_key.encode(), data_to_sign.encode(), hashlib.sha256).hexdigest()
print(generate_signature(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
`;

const V2_PY = `
import hmac, hashlib, sys
secret, method, path, ts, nonce, body = sys.argv[1:7]
canonical = "\\n".join(["AFFTRACK-HMAC-SHA256-V2", method.upper(), path, ts, nonce,
                        hashlib.sha256(body.encode()).hexdigest()])
print(hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest())
`;

const vectors = [
  {
    apiKey: "your_api_key",
    advertiserId: "your_advertiser_id",
    timestamp: 1234567890000,
    nonce: "random_32_char_string",
  },
  {
    apiKey: "ak_Zx81QvLw0aP3nR5tY7uI9oK2jH4gF6dS8aQ1wE3r",
    advertiserId: "adv_0123456789abcdef",
    timestamp: 1767225600123,
    nonce: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
  },
];

describe("seed request signature", () => {
  it("builds the seed's data_to_sign", () => {
    expect(seedSignaturePayload("k", "adv", 1, "n")).toBe("k|adv|1|n");
  });

  for (const vec of vectors) {
    it(`matches the seed's JS and Python recipes for ${vec.advertiserId}`, async () => {
      const ours = await computeSeedSignature(vec);
      expect(ours).toMatch(/^[0-9a-f]{64}$/);
      expect(ours).toBe(seedJs(vec.apiKey, vec.advertiserId, vec.timestamp, vec.nonce));
      expect(ours).toBe(python(SEED_PY, [vec.apiKey, vec.advertiserId, String(vec.timestamp), vec.nonce]));
    });
  }

  it("verifies case-insensitively and refuses any change", async () => {
    const vec = vectors[1]!;
    const sig = await computeSeedSignature(vec);
    expect(await verifySeedSignature(vec, sig)).toBe(true);
    expect(await verifySeedSignature(vec, sig.toUpperCase())).toBe(true);
    expect(await verifySeedSignature({ ...vec, timestamp: vec.timestamp + 1 }, sig)).toBe(false);
    expect(await verifySeedSignature({ ...vec, advertiserId: "adv_other" }, sig)).toBe(false);
    expect(await verifySeedSignature({ ...vec, nonce: `${vec.nonce}x` }, sig)).toBe(false);
    expect(await verifySeedSignature(vec, sig.slice(0, 63))).toBe(false);
  });
});

describe("v2 request signature", () => {
  const req = {
    secret: "ss_9fJ2kL0pQ7rT1vX3zB5nM8cD4gH6jW0y",
    method: "post",
    path: "/api/postback",
    timestamp: 1767225600123,
    nonce: "n0nce_for_v2_vector_0001",
    body: '{"advertiser_id":"adv_1","offer_id":"off_1","transaction_id":"txn_1","amount":29.99}',
  };

  it("uses the documented canonical string", () => {
    const bodySha256 = createHash("sha256").update(req.body).digest("hex");
    expect(canonicalRequestV2({ ...req, bodySha256 })).toBe(
      `AFFTRACK-HMAC-SHA256-V2\nPOST\n/api/postback\n1767225600123\nn0nce_for_v2_vector_0001\n${bodySha256}`,
    );
  });

  it("matches an independent Python implementation", async () => {
    const ours = await computeSignatureV2(req);
    expect(ours).toBe(
      python(V2_PY, [req.secret, req.method, req.path, String(req.timestamp), req.nonce, req.body]),
    );
  });

  it("covers method, path, timestamp, nonce and every body byte", async () => {
    const sig = await computeSignatureV2(req);
    expect(await verifySignatureV2(req, sig)).toBe(true);
    expect(await verifySignatureV2({ ...req, body: new TextEncoder().encode(req.body) }, sig)).toBe(true);
    expect(await verifySignatureV2({ ...req, body: req.body.replace("29.99", "2999") }, sig)).toBe(false);
    expect(await verifySignatureV2({ ...req, path: "/api/sdk/conversion" }, sig)).toBe(false);
    expect(await verifySignatureV2({ ...req, method: "PUT" }, sig)).toBe(false);
    expect(await verifySignatureV2({ ...req, timestamp: req.timestamp + 1 }, sig)).toBe(false);
    expect(await verifySignatureV2({ ...req, nonce: "n0nce_for_v2_vector_0002" }, sig)).toBe(false);
    expect(await verifySignatureV2({ ...req, secret: `${req.secret}x` }, sig)).toBe(false);
  });

  it("produces and parses the X-Signature headers", async () => {
    const headers = await signRequestV2(req);
    expect(headers["x-signature-timestamp"]).toBe("1767225600123");
    expect(headers["x-signature-nonce"]).toBe(req.nonce);
    expect(parseSignatureV2Header(headers["x-signature"]!)).toBe(await computeSignatureV2(req));
    expect(parseSignatureV2Header("v1=abc")).toBeNull();
    expect(parseSignatureV2Header(`v2=${"g".repeat(64)}`)).toBeNull();
  });
});

describe("request time window", () => {
  const now = 1767225600000;
  it("accepts ±5 minutes and refuses beyond", () => {
    expect(checkRequestTime(now, now)).toBe("fresh");
    expect(checkRequestTime(now - REQUEST_MAX_SKEW_MS, now)).toBe("fresh");
    expect(checkRequestTime(now + REQUEST_MAX_SKEW_MS, now)).toBe("fresh");
    expect(checkRequestTime(now - REQUEST_MAX_SKEW_MS - 1, now)).toBe("expired");
    expect(checkRequestTime(now + REQUEST_MAX_SKEW_MS + 1, now)).toBe("expired");
    // Seconds instead of milliseconds is decades off.
    expect(checkRequestTime(Math.floor(now / 1000), now)).toBe("expired");
  });
});
