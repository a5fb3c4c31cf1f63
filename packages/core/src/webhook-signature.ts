// Webhook signatures, two styles on one body. Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature: "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>", keyed by the base64
// part of a whsec_ secret), so any Standard Webhooks library verifies and rejects replays; and the
// seed's `signature` field: hex HMAC-SHA256 of JSON.stringify({event, timestamp, data}), keyed by
// the whole whsec_ secret as text, so the seed's JavaScript recipe verifies it unchanged.

import { hmacSha256Hex, randomBase62, sha256Hex, utf8 } from "./crypto";

export const WEBHOOK_SECRET_PREFIX = "whsec_";

function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const b of view) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** A new secret: `whsec_` + base64 of 24 random bytes (192 bits, inside the spec's 24–64). */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** The HMAC key bytes of a whsec_ secret (the base64 after the prefix), or null if malformed. */
export function webhookSecretKey(secret: string): Uint8Array<ArrayBuffer> | null {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return null;
  const bytes = fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  return bytes && bytes.length > 0 ? bytes : null;
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function importKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    const raw = webhookSecretKey(secret);
    if (!raw) throw new Error("not a whsec_ secret");
    if (keyCache.size >= 256) keyCache.clear();
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(secret, key);
  }
  return key;
}

/** One Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`. */
export async function standardWebhookSignature(
  secret: string,
  msgId: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await importKey(secret),
    utf8(`${msgId}.${timestampSeconds}.${body}`),
  );
  return `v1,${toBase64(mac)}`;
}

/**
 * The Standard Webhooks headers of one attempt, signed with every active secret (newest first):
 * during a rotation's overlap the receiver finds the signature of whichever secret it holds.
 */
export async function standardWebhookHeaders(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  const signatures = await Promise.all(
    secrets.map((s) => standardWebhookSignature(s, msgId, timestampSeconds, body)),
  );
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}

export interface WebhookPayload<T = unknown> {
  event: string;
  /** Milliseconds since the epoch, as in the seed. */
  timestamp: number;
  data: T;
}

/** The payload as the body's text before signing: the seed's key order, event, timestamp, data. */
export function webhookPayloadText(payload: WebhookPayload): string {
  return JSON.stringify({ event: payload.event, timestamp: payload.timestamp, data: payload.data });
}

/** The seed's `signature`: hex HMAC-SHA256 of the payload's JSON text, keyed by the secret's text. */
export function seedWebhookSignature(secret: string, payloadText: string): Promise<string> {
  return hmacSha256Hex(secret, payloadText);
}

/**
 * The body sent: the payload text with the seed's `signature` appended as its last field, so
 * `const { signature, ...payload } = JSON.parse(body)` gives back exactly what was signed.
 */
export async function signedWebhookBody(secret: string, payloadText: string): Promise<string> {
  const signature = await seedWebhookSignature(secret, payloadText);
  return `${payloadText.slice(0, -1)},"signature":"${signature}"}`;
}

/** The text a publisher postback's `{signature}` macro signs (documented for publishers). */
export function postbackSignatureBase(v: {
  conversion_id: string;
  transaction_id: string;
  status: string;
  payout: string;
  currency: string;
  timestamp: number;
}): string {
  return `${v.conversion_id}.${v.transaction_id}.${v.status}.${v.payout}.${v.currency}.${v.timestamp}`;
}

/** `{signature}` of a postback URL: hex HMAC-SHA256 of postbackSignatureBase, keyed by the secret text. */
export function postbackSignature(secret: string, base: string): Promise<string> {
  return hmacSha256Hex(secret, base);
}

/**
 * The stable webhook-id of one event at one endpoint: `msg_` + 32 hex of SHA-256(event × endpoint).
 * Every retry, queue redelivery and resend of that pair carries it, so receivers can dedupe.
 */
export async function deliveryIdOf(eventId: string, endpointId: string): Promise<string> {
  return `msg_${(await sha256Hex(`${eventId}\u0000${endpointId}`)).slice(0, 32)}`;
}

/** A deterministic event id (`evt_` + 32 hex) for a fact that happens once, e.g. a status reached. */
export async function eventIdOf(fact: string): Promise<string> {
  return `evt_${(await sha256Hex(fact)).slice(0, 32)}`;
}

/** A random event id, for facts with no natural key (a test ping). */
export function newEventId(): string {
  return `evt_${randomBase62(24)}`;
}
