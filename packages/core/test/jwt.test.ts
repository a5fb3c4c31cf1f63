import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { base64UrlEncode, signJwt, verifyJwt } from "../src/index";

const SECRET = "test-secret-0123456789";
const claims = { sub: "usr_1", role: "advertiser" as const, tenant_id: "net_1", advertiser_id: "adv_1" };

function b64url(json: unknown) {
  return Buffer.from(JSON.stringify(json)).toString("base64url");
}
function nodeSign(header: unknown, payload: unknown, secret = SECRET) {
  const body = `${b64url(header)}.${b64url(payload)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

describe("signJwt / verifyJwt", () => {
  it("round-trips claims with iat and exp", async () => {
    const now = Date.UTC(2026, 0, 1);
    const token = await signJwt(claims, SECRET, { ttlSeconds: 900, now });
    const result = await verifyJwt(token, SECRET, now + 1000);
    expect(result).toEqual({
      ok: true,
      claims: { ...claims, iat: now / 1000, exp: now / 1000 + 900 },
    });
  });

  it("is a standard HS256 JWT that Node's HMAC verifies", async () => {
    const token = await signJwt(claims, SECRET, { ttlSeconds: 60 });
    const [h, p, s] = token.split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({ alg: "HS256", typ: "JWT" });
    expect(createHmac("sha256", SECRET).update(`${h}.${p}`).digest("base64url")).toBe(s);
    // and a token made by another implementation verifies here
    const iat = Math.floor(Date.now() / 1000);
    const foreign = nodeSign({ alg: "HS256", typ: "JWT" }, { ...claims, iat, exp: iat + 60 });
    expect((await verifyJwt(foreign, SECRET)).ok).toBe(true);
  });

  it("refuses an expired token", async () => {
    const now = Date.now();
    const token = await signJwt(claims, SECRET, { ttlSeconds: 60, now: now - 61_000 });
    expect(await verifyJwt(token, SECRET, now)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a token signed with another secret or with a tampered payload", async () => {
    const token = await signJwt(claims, SECRET, { ttlSeconds: 60 });
    expect(await verifyJwt(token, "other-secret")).toEqual({ ok: false, reason: "bad_signature" });
    const [h, , s] = token.split(".") as [string, string, string];
    const iat = Math.floor(Date.now() / 1000);
    const forged = `${h}.${b64url({ ...claims, role: "network_admin", iat, exp: iat + 60 })}.${s}`;
    expect(await verifyJwt(forged, SECRET)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses alg none and other algorithms even when the HMAC is right", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const payload = { ...claims, iat, exp: iat + 60 };
    const none = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.`;
    expect((await verifyJwt(none, SECRET)).ok).toBe(false);
    expect((await verifyJwt(nodeSign({ alg: "HS512", typ: "JWT" }, payload), SECRET)).ok).toBe(false);
  });

  it("refuses garbage and tokens missing required claims", async () => {
    for (const bad of ["", "a.b", "a.b.c.d", "!!!.###.$$$", `${base64UrlEncode(new Uint8Array([1]))}.x.y`]) {
      expect((await verifyJwt(bad, SECRET)).ok).toBe(false);
    }
    const iat = Math.floor(Date.now() / 1000);
    for (const payload of [
      { role: "advertiser", tenant_id: "net_1", iat, exp: iat + 60 },
      { sub: "usr_1", role: "superuser", tenant_id: "net_1", iat, exp: iat + 60 },
      { sub: "usr_1", role: "advertiser", iat, exp: iat + 60 },
      { sub: "usr_1", role: "advertiser", tenant_id: "net_1", iat },
      { sub: "usr_1", role: "advertiser", tenant_id: "net_1", iat: iat + 3600, exp: iat + 7200 },
    ]) {
      expect(await verifyJwt(nodeSign({ alg: "HS256", typ: "JWT" }, payload), SECRET)).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
  });
});
