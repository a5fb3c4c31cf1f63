// The guard chain every ingestion endpoint shares. Refusals keep this order: size (413) → API key
// (401) → rate limit (429, headers from here on) → [postback IP allowlist (403)] → signature (403),
// timestamp (401) and nonce (409). Routes then validate their body (`validate("json", ...)` after
// this guard), so a body error never hides an auth refusal.
//
// It costs one Redis round trip: the key record comes from the isolate cache (or Postgres), the
// allowlist, signature and time window are checked without I/O, and only then are the rate-limit
// windows and the nonce claim issued together, so the client pipelines them into one request.

import { ApiError, assertIpAllowed, type ErrorCode } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";
import { isOutage } from "../errors";
import { requestOriginOf } from "../services/ingest";
import { authenticateRequestKey } from "./api-key-auth";
import { takeRateLimit } from "./rate-limit";
import { claimNonce, releaseNonce, verifyRequestSignature } from "./request-signature";

export interface IngestGuardOptions {
  /** Server-to-server endpoints: enforce the advertiser's postback IP allowlist. */
  serverToServer?: boolean;
  /** Rate-limit units of a request (batch: its events). */
  cost?: (c: AppContext) => number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function attempt<T>(work: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

function isRetryable(err: unknown): boolean {
  return (err instanceof ApiError && err.code === "SERVICE_UNAVAILABLE") || isOutage(err);
}

/**
 * @example
 * app.post("/api/postback", describe({...}), ingestGuards({ serverToServer: true }),
 *   validate("json", PostbackBodySchema), handler);
 */
export function ingestGuards(opts: IngestGuardOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = await authenticateRequestKey(c);
    // Decided now, answered below in the documented order.
    const allowed = await attempt(() => {
      if (opts.serverToServer)
        assertIpAllowed(key.postback_ip_allowlist, requestOriginOf(c).ip, "advertiser's");
    });
    const signature = await attempt(() => verifyRequestSignature(c, key));
    const nonce = allowed.ok && signature.ok ? signature.value.nonce : null;

    // One round trip: both calls are issued before either is awaited.
    const [granted, claimed] = await Promise.all([
      attempt(() => takeRateLimit(c, key, { cost: opts.cost?.(c) ?? 1 })),
      nonce === null
        ? Promise.resolve<Outcome<boolean>>({ ok: true, value: false })
        : attempt(() => claimNonce(c, key, nonce)),
    ]);
    if (!granted.ok) {
      // Refused before it counted: the client may retry with the same nonce.
      if (nonce !== null && claimed.ok && claimed.value)
        c.executionCtx.waitUntil(releaseNonce(c, key, nonce));
      throw granted.error;
    }
    c.set("rateLimitGranted", granted.value);
    if (!allowed.ok) throw allowed.error;
    if (!signature.ok) throw signature.error;
    if (!claimed.ok) throw claimed.error;
    if (!claimed.value) throw new ApiError("REPLAYED_REQUEST", "Nonce already used");
    try {
      await next();
    } catch (err) {
      // Told to retry (an outage): the retry must not be refused as a replay. A conversion retried
      // after all is still caught by its unique transaction_id.
      if (nonce !== null && isRetryable(err)) c.executionCtx.waitUntil(releaseNonce(c, key, nonce));
      throw err;
    }
  };
}

/** What the chain (and the body reader before it) can refuse with, for every ingestion route's docs. */
export const INGEST_GUARD_ERRORS: readonly ErrorCode[] = [
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "INVALID_API_KEY",
  "RATE_LIMITED",
  "INVALID_SIGNATURE",
  "EXPIRED_REQUEST",
  "REPLAYED_REQUEST",
];
