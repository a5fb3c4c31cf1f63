import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  checkLinkTime,
  clampLinkTtl,
  computeLinkSignature,
  parseLinkToken,
  signLinkToken,
  verifyLinkSignature,
} from "../src/index";

// The seed's JavaScript recipe, verbatim in substance (afftok-tracking-links.md).
function seedJsSignedPath(trackingCode: string, secretKey: string, timestamp: number, nonce: string) {
  const dataToSign = `${trackingCode}.${timestamp}.${nonce}`;
  const signature = createHmac("sha256", secretKey).update(dataToSign).digest("hex").substring(0, 16);
  return `${trackingCode}.${timestamp}.${nonce}.${signature}`;
}

// The seed's Python recipe, run by python3 with a fixed timestamp and nonce.
function seedPythonSignature(trackingCode: string, secretKey: string, timestamp: number, nonce: string) {
  const script = `
import hmac, hashlib, sys
tracking_code, secret_key, timestamp, nonce = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
data_to_sign = f"{tracking_code}.{timestamp}.{nonce}"
print(hmac.new(secret_key.encode(), data_to_sign.encode(), hashlib.sha256).hexdigest()[:16])
`;
  return execFileSync("python3", ["-c", script, trackingCode, secretKey, String(timestamp), nonce])
    .toString()
    .trim();
}

describe("signed link tokens", () => {
  const secret = "your_secret_key";

  it("matches the seed's JavaScript recipe byte for byte", async () => {
    for (let i = 0; i < 20; i++) {
      const nonce = randomBytes(16).toString("hex");
      const ts = 1699876543210 + i;
      const expected = seedJsSignedPath("abc123", secret, ts, nonce);
      expect(await signLinkToken({ secret, code: "abc123", timestamp: ts, nonce })).toBe(expected);
      const parsed = parseLinkToken(expected);
      expect(parsed.kind).toBe("signed");
      if (parsed.kind === "signed") expect(await verifyLinkSignature(parsed, [secret])).toBe(true);
    }
  });

  it("matches the seed's Python recipe", async () => {
    const nonce = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const py = seedPythonSignature("abc123def456", "s3cr3t-ünïcode", 1699876543210, nonce);
    expect(py).toMatch(/^[0-9a-f]{16}$/);
    expect(await computeLinkSignature("s3cr3t-ünïcode", "abc123def456", 1699876543210, nonce)).toBe(py);
  });

  it("rejects a tampered code, timestamp, nonce or signature", async () => {
    const token = await signLinkToken({
      secret,
      code: "abc123",
      timestamp: 1699876543210,
      nonce: "n".repeat(32),
    });
    const [code, ts, nonce, sig] = token.split(".") as [string, string, string, string];
    const variants = [
      `abc124.${ts}.${nonce}.${sig}`,
      `${code}.${Number(ts) + 1}.${nonce}.${sig}`,
      `${code}.${ts}.${"m".repeat(32)}.${sig}`,
      `${code}.${ts}.${nonce}.${sig.slice(0, 15)}${sig.endsWith("0") ? "1" : "0"}`,
    ];
    for (const variant of variants) {
      const parsed = parseLinkToken(variant);
      expect(parsed.kind).toBe("signed");
      if (parsed.kind === "signed") expect(await verifyLinkSignature(parsed, [secret])).toBe(false);
    }
  });

  it("accepts any of several secrets (rotation) and none of the wrong ones", async () => {
    const token = parseLinkToken(await signLinkToken({ secret: "old-secret", code: "abc123" }));
    if (token.kind !== "signed") throw new Error("expected signed");
    expect(await verifyLinkSignature(token, ["new-secret", "old-secret"])).toBe(true);
    expect(await verifyLinkSignature(token, ["new-secret"])).toBe(false);
    expect(await verifyLinkSignature(token, [])).toBe(false);
  });

  it("parses unsigned, malformed and invalid tokens", () => {
    expect(parseLinkToken("abc123def456")).toEqual({ kind: "unsigned", code: "abc123def456" });
    expect(parseLinkToken("abc123.1699876543210.nonce")).toEqual({ kind: "malformed", code: "abc123" });
    expect(parseLinkToken("abc123.notanumber.nonce123abc.0123456789abcdef").kind).toBe("malformed");
    expect(parseLinkToken("abc123.1699876543210.nonce123abc.xyz").kind).toBe("malformed");
    expect(parseLinkToken("../etc").kind).toBe("invalid");
    expect(parseLinkToken("").kind).toBe("invalid");
    expect(parseLinkToken("a".repeat(65)).kind).toBe("invalid");
  });

  it("applies the TTL as now - timestamp < TTL and refuses far-future stamps", () => {
    const now = 1_700_000_000_000;
    expect(checkLinkTime(now - 299_999, 300, now)).toBe("fresh");
    expect(checkLinkTime(now - 300_000, 300, now)).toBe("expired");
    expect(checkLinkTime(now + 30_000, 300, now)).toBe("fresh");
    expect(checkLinkTime(now + 3_600_000, 300, now)).toBe("expired");
  });

  it("clamps TTLs to 1 minute – 24 hours with a 5 minute default", () => {
    expect(clampLinkTtl(undefined)).toBe(300);
    expect(clampLinkTtl(5)).toBe(60);
    expect(clampLinkTtl(10 * 86_400)).toBe(86_400);
    expect(clampLinkTtl(600)).toBe(600);
  });
});
