// Verifies the webhooks the API sends, in both styles it signs a delivery with: Standard Webhooks v1
// (headers webhook-id / webhook-timestamp / webhook-signature, whsec_ base64 secret) and the seed's
// payload `signature` (hex HMAC-SHA256 of JSON.stringify({event, timestamp, data}), keyed by the
// whole secret as text). Independent of the sender's code: it follows the two specifications.

import { fromBase64, hmacSha256, hmacSha256Hex, timingSafeEqual, toBase64 } from "./crypto";

/** Standard Webhooks: a delivery older or newer than this is refused (replay window). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export class WebhookVerificationError extends Error {
  constructor(
    message: string,
    readonly reason: "missing_headers" | "bad_secret" | "bad_timestamp" | "expired" | "bad_signature",
  ) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

export interface WebhookEvent<T = Record<string, unknown>> {
  event: string;
  timestamp: number;
  data: T;
  signature?: string;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : value;
}

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const bytes = secret.startsWith("whsec_") ? fromBase64(secret.slice(6)) : null;
  if (!bytes || bytes.length === 0) throw new WebhookVerificationError("not a whsec_ secret", "bad_secret");
  return bytes;
}

/**
 * Checks a Standard Webhooks delivery against one or more secrets (several during a rotation) and
 * returns the parsed body. `body` must be the raw request body, byte for byte as received.
 * Throws WebhookVerificationError when the headers, the time window or every signature fail.
 *
 * @example
 * const event = await verifyWebhook({ secret: env.WEBHOOK_SECRET, headers: req.headers, body: await req.text() });
 */
export async function verifyWebhook<T = Record<string, unknown>>(p: {
  secret: string | readonly string[];
  headers: HeaderSource;
  body: string;
  toleranceSeconds?: number;
  /** Unix seconds, for tests. */
  now?: number;
}): Promise<WebhookEvent<T>> {
  const id = header(p.headers, "webhook-id");
  const ts = header(p.headers, "webhook-timestamp");
  const sigs = header(p.headers, "webhook-signature");
  if (!id || !ts || !sigs) throw new WebhookVerificationError("missing webhook headers", "missing_headers");
  if (!/^\d{1,12}$/.test(ts))
    throw new WebhookVerificationError("invalid webhook-timestamp", "bad_timestamp");
  const now = p.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(ts)) > (p.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) {
    throw new WebhookVerificationError("webhook timestamp outside the tolerance", "expired");
  }
  const offered = sigs
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => s.slice(3));
  const secrets = typeof p.secret === "string" ? [p.secret] : p.secret;
  let matched = false;
  for (const secret of secrets) {
    const expected = toBase64(await hmacSha256(secretBytes(secret), `${id}.${ts}.${p.body}`));
    for (const sig of offered) if (timingSafeEqual(expected, sig)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError("no matching webhook signature", "bad_signature");
  return JSON.parse(p.body) as WebhookEvent<T>;
}

/** The seed's payload signature of an event (what its `signature` field must hold). */
export function seedWebhookSignature(
  secret: string,
  payload: { event: string; timestamp: number; data: unknown },
): Promise<string> {
  return hmacSha256Hex(
    secret,
    JSON.stringify({ event: payload.event, timestamp: payload.timestamp, data: payload.data }),
  );
}

/**
 * True when the body's `signature` field is the seed's signature of its event, timestamp and data,
 * and its `timestamp` (Unix milliseconds, as the API sends it) is within `toleranceSeconds` of now
 * (default 5 minutes, as for Standard Webhooks): a captured delivery cannot be replayed later.
 *
 * The API stamps every attempt's body with its send time and signs it again, so retries days
 * later pass too; dedupe on the `webhook-id` header (stable across retries) or the event's ids.
 */
export async function verifySeedWebhook(
  secret: string,
  payload: WebhookEvent<unknown>,
  opts: { toleranceSeconds?: number /** Unix seconds, for tests. */; now?: number } = {},
): Promise<boolean> {
  if (typeof payload.signature !== "string") return false;
  if (typeof payload.timestamp !== "number" || !Number.isSafeInteger(payload.timestamp)) return false;
  const nowMs = opts.now === undefined ? Date.now() : opts.now * 1000;
  const toleranceMs = (opts.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS) * 1000;
  if (Math.abs(nowMs - payload.timestamp) > toleranceMs) return false;
  return timingSafeEqual(await seedWebhookSignature(secret, payload), payload.signature.toLowerCase());
}
