// Request signatures of the ingestion API (docs/ingestion-api.md): the seed's body signature keyed
// by the API key, and v2, keyed by the key's signing secret over method, path, timestamp, nonce and
// the SHA-256 of the exact body bytes. Also signed tracking links for servers that mint their own.

import { hmacSha256Hex, randomNonce, sha256Hex } from "./crypto";

/** The seed's signature: hex HMAC-SHA256(api_key, "{api_key}|{advertiser_id}|{timestamp}|{nonce}"). */
export function seedSignature(p: {
  apiKey: string;
  advertiserId: string;
  timestamp: number;
  nonce: string;
}): Promise<string> {
  return hmacSha256Hex(p.apiKey, `${p.apiKey}|${p.advertiserId}|${p.timestamp}|${p.nonce}`);
}

/** Adds `timestamp`, `nonce` and `signature` (seed scheme) to a body; fresh values unless given. */
export async function signBodySeed<T extends Record<string, unknown>>(
  creds: { apiKey: string; advertiserId: string },
  body: T,
  opts: { timestamp?: number; nonce?: string } = {},
): Promise<T & { timestamp: number; nonce: string; signature: string }> {
  const timestamp = opts.timestamp ?? Date.now();
  const nonce = opts.nonce ?? randomNonce();
  const signature = await seedSignature({ ...creds, timestamp, nonce });
  return { ...body, timestamp, nonce, signature };
}

/** The three v2 headers (`X-Signature: v2=<hex>`, `X-Signature-Timestamp`, `X-Signature-Nonce`). */
export async function signRequestV2(p: {
  signingSecret: string;
  method: string;
  /** The request target as sent: path plus `?query` if any. */
  path: string;
  body: string | Uint8Array<ArrayBuffer>;
  timestamp?: number;
  nonce?: string;
}): Promise<Record<string, string>> {
  const timestamp = p.timestamp ?? Date.now();
  const nonce = p.nonce ?? randomNonce();
  const canonical = [
    "AFFTRACK-HMAC-SHA256-V2",
    p.method.toUpperCase(),
    p.path,
    String(timestamp),
    nonce,
    await sha256Hex(p.body),
  ].join("\n");
  return {
    "x-signature": `v2=${await hmacSha256Hex(p.signingSecret, canonical)}`,
    "x-signature-timestamp": String(timestamp),
    "x-signature-nonce": nonce,
  };
}

/**
 * A signed tracking-link token `{tracking_code}.{timestamp}.{nonce}.{signature}`, the signature being
 * the first 16 hex characters of HMAC-SHA256(link secret, "{code}.{timestamp}.{nonce}") (seed:
 * afftok-tracking-links.md). The edge accepts it for the offer's link TTL after `timestamp`.
 */
export async function signLinkToken(p: {
  secret: string;
  trackingCode: string;
  timestamp?: number;
  nonce?: string;
}): Promise<string> {
  const timestamp = p.timestamp ?? Date.now();
  const nonce = p.nonce ?? randomNonce();
  const signature = (await hmacSha256Hex(p.secret, `${p.trackingCode}.${timestamp}.${nonce}`)).slice(0, 16);
  return `${p.trackingCode}.${timestamp}.${nonce}.${signature}`;
}

/** The full signed link on a tracking domain: `{trackingBaseUrl}/c/{token}`. */
export async function signLink(p: {
  trackingBaseUrl: string;
  secret: string;
  trackingCode: string;
  timestamp?: number;
  nonce?: string;
}): Promise<string> {
  return `${p.trackingBaseUrl.replace(/\/+$/, "")}/c/${await signLinkToken(p)}`;
}
