// The guard chain every ingestion endpoint shares, in the order a refusal is decided:
// size (413) → API key (401) → rate limit (429, headers from here on) → [postback IP allowlist
// (403)] → signature (403), timestamp (401) and nonce (409). Handlers then validate their body.

import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../../context";
import { apiKeyAuth } from "../../middleware/api-key-auth";
import { ipAllowlist } from "../../middleware/ip-allowlist";
import { rateLimit } from "../../middleware/rate-limit";
import { requestSignature } from "../../middleware/request-signature";

export interface IngestGuardOptions {
  /** Server-to-server endpoints: enforce the advertiser's postback IP allowlist. */
  serverToServer?: boolean;
  /** Rate-limit units of a request (batch: its events). */
  cost?: (c: AppContext) => number;
}

/** One middleware running the chain, so a route reads `app.post(path, ingestGuards(), handler)`. */
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
