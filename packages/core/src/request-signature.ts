// Request signatures of the ingestion API. The seed's scheme (keyed by the API key itself, over key,
// advertiser, timestamp and nonce) and v2: keyed by a per-key signing secret that never travels,
// over method, path, timestamp, nonce and the SHA-256 of the raw body, so a body cannot be altered.

import { hmacSha256Hex, sha256Hex, timingSafeEqual, utf8 } from "./crypto";

/** Seed: a request is refused as EXPIRED_REQUEST when its timestamp is more than 5 minutes off. */
export const REQUEST_MAX_SKEW_MS = 5 * 60_000;
/** Nonces are remembered a little longer than the whole window a timestamp can be accepted in. */
export const REQUEST_NONCE_TTL_SECONDS = 600;
/** Seed: "random 32-char string"; we accept URL-safe nonces of 8–128 chars (hex, UUIDs, base62). */
export const REQUEST_NONCE_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;

export const SIGNATURE_V2_ALGORITHM = "AFFTRACK-HMAC-SHA256-V2";
/** Headers of the v2 scheme (lowercase, as Headers.get accepts them). */
export const SIGNATURE_V2_HEADERS = {
  signature: "x-signature",
  timestamp: "x-signature-timestamp",
  nonce: "x-signature-nonce",
} as const;
const V2_VALUE = /^v2=([0-9a-fA-F]{64})$/;

/** `{api_key}|{advertiser_id}|{timestamp}|{nonce}` — the seed's data_to_sign. */
export function seedSignaturePayload(apiKey: string, advertiserId: string, timestamp: number, nonce: string) {
  return `${apiKey}|${advertiserId}|${timestamp}|${nonce}`;
}

/** The seed's signature: hex HMAC-SHA256 keyed by the API key. */
export function computeSeedSignature(p: {
  apiKey: string;
  advertiserId: string;
  timestamp: number;
  nonce: string;
}): Promise<string> {
  return hmacSha256Hex(p.apiKey, seedSignaturePayload(p.apiKey, p.advertiserId, p.timestamp, p.nonce));
}

export async function verifySeedSignature(
  p: { apiKey: string; advertiserId: string; timestamp: number; nonce: string },
  signature: string,
): Promise<boolean> {
  return timingSafeEqual(await computeSeedSignature(p), signature.toLowerCase());
}

/**
 * The v2 canonical string, one field per line:
 *   AFFTRACK-HMAC-SHA256-V2 \n METHOD \n path \n timestamp \n nonce \n hex(sha256(raw body))
 * `path` is the request target as sent (path plus `?query` if any), METHOD is uppercase.
 */
export function canonicalRequestV2(p: {
  method: string;
  path: string;
  timestamp: number;
  nonce: string;
  bodySha256: string;
}): string {
  return [
    SIGNATURE_V2_ALGORITHM,
    p.method.toUpperCase(),
    p.path,
    String(p.timestamp),
    p.nonce,
    p.bodySha256,
  ].join("\n");
}

export interface SignV2Input {
  secret: string;
  method: string;
  path: string;
  timestamp: number;
  nonce: string;
  body: string | Uint8Array<ArrayBuffer>;
}

/** Hex HMAC-SHA256(signing secret, canonical string). */
export async function computeSignatureV2(p: SignV2Input): Promise<string> {
  const bodySha256 = await sha256Hex(typeof p.body === "string" ? utf8(p.body) : p.body);
  return hmacSha256Hex(p.secret, canonicalRequestV2({ ...p, bodySha256 }));
}

/** The three v2 headers for a request (what a client adds next to X-API-Key). */
export async function signRequestV2(p: SignV2Input): Promise<Record<string, string>> {
  return {
    [SIGNATURE_V2_HEADERS.signature]: `v2=${await computeSignatureV2(p)}`,
    [SIGNATURE_V2_HEADERS.timestamp]: String(p.timestamp),
    [SIGNATURE_V2_HEADERS.nonce]: p.nonce,
  };
}

/** The hex digest from an `X-Signature: v2=<hex>` value, or null when it is not of that shape. */
export function parseSignatureV2Header(value: string): string | null {
  const m = V2_VALUE.exec(value.trim());
  return m?.[1] ? m[1].toLowerCase() : null;
}

export async function verifySignatureV2(p: SignV2Input, signature: string): Promise<boolean> {
  return timingSafeEqual(await computeSignatureV2(p), signature.toLowerCase());
}

export type RequestTimeVerdict = "fresh" | "expired";

/** Fresh when the timestamp (ms) is within ±5 minutes of now. */
export function checkRequestTime(
  timestamp: number,
  now = Date.now(),
  maxSkewMs = REQUEST_MAX_SKEW_MS,
): RequestTimeVerdict {
  return Math.abs(now - timestamp) <= maxSkewMs ? "fresh" : "expired";
}
