// Management-API access tokens: compact JWTs signed with HS256 (Web Crypto HMAC). Only HS256 is
// accepted, whatever the header says, so "alg: none" and algorithm confusion cannot get through.

import { base64UrlDecode, base64UrlEncode, hmacKey, utf8 } from "./crypto";

export type UserRole = "network_admin" | "advertiser" | "publisher";

export interface AccessClaims {
  /** User id. */
  sub: string;
  role: UserRole;
  tenant_id: string;
  advertiser_id?: string;
  publisher_id?: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

/** Access tokens live 15 minutes; the refresh token (30 days, rotated on use) renews them. */
export const ACCESS_TOKEN_TTL_SECONDS = 900;

/** Who a management request acts for, as its access token names them. */
export interface Caller {
  user_id: string;
  role: UserRole;
  tenant_id: string;
  advertiser_id: string | null;
  publisher_id: string | null;
}

export function callerFromClaims(claims: AccessClaims): Caller {
  return {
    user_id: claims.sub,
    role: claims.role,
    tenant_id: claims.tenant_id,
    advertiser_id: claims.advertiser_id ?? null,
    publisher_id: claims.publisher_id ?? null,
  };
}

export type JwtVerifyResult =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/** A token issued this far in the future is refused (clock skew allowance, seconds). */
const MAX_IAT_SKEW_SECONDS = 60;
const ROLES: readonly string[] = ["network_admin", "advertiser", "publisher"];
const HEADER = base64UrlEncode(utf8(JSON.stringify({ alg: "HS256", typ: "JWT" })));

export async function signJwt(
  claims: Omit<AccessClaims, "iat" | "exp">,
  secret: string,
  opts: { ttlSeconds: number; now?: number },
): Promise<string> {
  if (!secret) throw new Error("JWT secret is empty");
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const payload: AccessClaims = { ...claims, iat, exp: iat + opts.ttlSeconds };
  const body = `${HEADER}.${base64UrlEncode(utf8(JSON.stringify(payload)))}`;
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(body));
  return `${body}.${base64UrlEncode(sig)}`;
}

function isClaims(value: unknown): value is AccessClaims {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  const optionalString = (x: unknown) => x === undefined || (typeof x === "string" && x.length > 0);
  return (
    typeof c.sub === "string" &&
    c.sub.length > 0 &&
    typeof c.tenant_id === "string" &&
    c.tenant_id.length > 0 &&
    typeof c.role === "string" &&
    ROLES.includes(c.role) &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    optionalString(c.advertiser_id) &&
    optionalString(c.publisher_id)
  );
}

export async function verifyJwt(token: string, secret: string, now = Date.now()): Promise<JwtVerifyResult> {
  if (!secret) throw new Error("JWT secret is empty");
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [header, payload, signature] = parts as [string, string, string];
  const headerBytes = base64UrlDecode(header);
  const sigBytes = base64UrlDecode(signature);
  const payloadBytes = base64UrlDecode(payload);
  if (!headerBytes || !sigBytes || !payloadBytes) return { ok: false, reason: "malformed" };
  let parsedHeader: unknown;
  let claims: unknown;
  try {
    parsedHeader = JSON.parse(new TextDecoder().decode(headerBytes));
    claims = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const h = parsedHeader as { alg?: unknown } | null;
  if (typeof h !== "object" || h === null || h.alg !== "HS256") return { ok: false, reason: "malformed" };
  // subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    sigBytes,
    utf8(`${header}.${payload}`),
  );
  if (!valid) return { ok: false, reason: "bad_signature" };
  if (!isClaims(claims)) return { ok: false, reason: "malformed" };
  const nowSeconds = Math.floor(now / 1000);
  if (claims.exp <= nowSeconds) return { ok: false, reason: "expired" };
  if (claims.iat > nowSeconds + MAX_IAT_SKEW_SECONDS) return { ok: false, reason: "malformed" };
  const out: AccessClaims = {
    sub: claims.sub,
    role: claims.role,
    tenant_id: claims.tenant_id,
    iat: claims.iat,
    exp: claims.exp,
  };
  if (claims.advertiser_id) out.advertiser_id = claims.advertiser_id;
  if (claims.publisher_id) out.publisher_id = claims.publisher_id;
  return { ok: true, claims: out };
}
