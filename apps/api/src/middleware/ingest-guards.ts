// The guard chain every ingestion endpoint shares, in the order a refusal is decided:
// size (413) → API key (401) → rate limit (429, headers from here on) → [postback IP allowlist
// (403)] → signature (403), timestamp (401) and nonce (409). Routes then validate their body
// (`validate("json", ...)` after this guard), so a body error never hides an auth refusal.

import type { ErrorCode } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";
import { apiKeyAuth } from "./api-key-auth";
import { ipAllowlist } from "./ip-allowlist";
import { rateLimit } from "./rate-limit";
import { requestSignature } from "./request-signature";

export interface IngestGuardOptions {
  /** Server-to-server endpoints: enforce the advertiser's postback IP allowlist. */
  serverToServer?: boolean;
  /** Rate-limit units of a request (batch: its events). */
  cost?: (c: AppContext) => number;
}

/**
 * One middleware running the chain.
 *
 * @example
 * app.post("/api/postback", describe({...}), ingestGuards({ serverToServer: true }),
 *   validate("json", PostbackBodySchema), handler);
 */
export function ingestGuards(opts: IngestGuardOptions = {}): MiddlewareHandler<AppEnv> {
  const chain: MiddlewareHandler<AppEnv>[] = [
    apiKeyAuth(),
    rateLimit(opts.cost ? { cost: opts.cost } : {}),
    ...(opts.serverToServer ? [ipAllowlist()] : []),
    requestSignature(),
  ];
  return async (c, next) => {
    const run = async (i: number): Promise<void> => {
      const guard = chain[i];
      if (!guard) return next();
      await guard(c, () => run(i + 1));
    };
    await run(0);
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
