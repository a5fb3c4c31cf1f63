// Signed tracking links (seed: afftok-tracking-links.md):
//   /c/{tracking_code}.{timestamp}.{nonce}.{signature}
//   signature = first 16 hex chars of HMAC-SHA256(secret, "{tracking_code}.{timestamp}.{nonce}")
// Parsing and verification are pure so the edge can decide a link's fate without any I/O.

import { hmacSha256Hex, randomBase62, timingSafeEqual } from "./crypto";
import { CODE_PATTERN } from "./ids";

export const SIGNATURE_LENGTH = 16;
export const DEFAULT_LINK_TTL_SECONDS = 300;
export const MIN_LINK_TTL_SECONDS = 60;
export const MAX_LINK_TTL_SECONDS = 86_400;

/**
 * The longest TTL an offer's links may be signed for, and so how long the edge accepts a link after
 * its timestamp: the advertiser's maximum when set, else 24 hours (issue 13 #14). A link signed for
 * less is stamped earlier by the difference, so it expires at the edge when it says it does.
 */
export function linkTtlCeiling(offer: { max_link_ttl_seconds?: number | null | undefined }): number {
  return clampLinkTtl(offer.max_link_ttl_seconds ?? MAX_LINK_TTL_SECONDS);
}
/** A link stamped this far in the future is outside its validity window (clock skew allowance). */
export const MAX_FUTURE_SKEW_MS = 60_000;

const NONCE_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const TIMESTAMP_PATTERN = /^\d{10,16}$/;
const SIGNATURE_PATTERN = /^[0-9a-fA-F]{16}$/;

export type ParsedLinkToken =
  | { kind: "signed"; code: string; timestamp: number; nonce: string; signature: string }
  | { kind: "unsigned"; code: string }
  /** Looks like a signed link of a known shape but a part is malformed: treated as tampered. */
  | { kind: "malformed"; code: string }
  | { kind: "invalid" };

export function parseLinkToken(token: string): ParsedLinkToken {
  const parts = token.split(".");
  const code = parts[0] ?? "";
  if (!CODE_PATTERN.test(code)) return { kind: "invalid" };
  if (parts.length === 1) return { kind: "unsigned", code };
  if (parts.length !== 4) return { kind: "malformed", code };
  const [, ts, nonce, signature] = parts as [string, string, string, string];
  if (!TIMESTAMP_PATTERN.test(ts) || !NONCE_PATTERN.test(nonce) || !SIGNATURE_PATTERN.test(signature)) {
    return { kind: "malformed", code };
  }
  return { kind: "signed", code, timestamp: Number(ts), nonce, signature: signature.toLowerCase() };
}

export async function computeLinkSignature(
  secret: string,
  code: string,
  timestamp: number,
  nonce: string,
): Promise<string> {
  const full = await hmacSha256Hex(secret, `${code}.${timestamp}.${nonce}`);
  return full.slice(0, SIGNATURE_LENGTH);
}

/** Builds a signed token; `nonce` defaults to 32 random characters as in the seed's examples. */
export async function signLinkToken(opts: {
  secret: string;
  code: string;
  timestamp?: number;
  nonce?: string;
}): Promise<string> {
  const timestamp = opts.timestamp ?? Date.now();
  const nonce = opts.nonce ?? randomBase62(32);
  const signature = await computeLinkSignature(opts.secret, opts.code, timestamp, nonce);
  return `${opts.code}.${timestamp}.${nonce}.${signature}`;
}

/**
 * True when the signature matches under any of `secrets`. Several secrets are valid at once so a
 * secret can be rotated without breaking links signed during the last TTL window. Every secret is
 * tried, so the time taken does not reveal which one matched.
 */
export async function verifyLinkSignature(
  token: { code: string; timestamp: number; nonce: string; signature: string },
  secrets: readonly string[],
): Promise<boolean> {
  let matched = false;
  for (const secret of secrets) {
    const expected = await computeLinkSignature(secret, token.code, token.timestamp, token.nonce);
    if (timingSafeEqual(expected, token.signature)) matched = true;
  }
  return matched;
}

export type LinkTimeVerdict = "fresh" | "expired";

/** Seed rule: valid while `now - timestamp < TTL`; stamped in the future beyond skew is not valid. */
export function checkLinkTime(timestamp: number, ttlSeconds: number, now = Date.now()): LinkTimeVerdict {
  if (timestamp - now > MAX_FUTURE_SKEW_MS) return "expired";
  return now - timestamp < ttlSeconds * 1000 ? "fresh" : "expired";
}

export function clampLinkTtl(seconds: number | null | undefined): number {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DEFAULT_LINK_TTL_SECONDS;
  return Math.min(MAX_LINK_TTL_SECONDS, Math.max(MIN_LINK_TTL_SECONDS, Math.trunc(seconds)));
}
