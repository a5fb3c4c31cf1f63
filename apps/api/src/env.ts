// The API worker's bindings (apps/api/wrangler.toml) and their one-time check.

import type { ClickEvent } from "@afftrack/core";

export interface ApiEnv {
  DATABASE_URL: string;
  /** Local only: the devstack's Neon WebSocket bridge, e.g. "127.0.0.1:8788/v1". Unset in production. */
  NEON_WS_PROXY?: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  IP_HASH_SECRET: string;
  /** Signs management-API JWTs (HS256). */
  JWT_SECRET: string;
  /** Public base of the edge worker, for links the API hands out (e.g. "https://track.example.com"). */
  TRACKING_BASE_URL?: string;
  /** Public base of the short-link host (e.g. "https://afftok.link"). */
  SHORT_LINK_BASE_URL?: string;
  CLICKS?: Queue<ClickEvent>;
  /** Ingestion rate limits per API key (defaults 60 and 1000, the seed's); raised for benchmarks. */
  RATE_LIMIT_PER_MINUTE?: string;
  RATE_LIMIT_PER_HOUR?: string;
}

const REQUIRED = [
  "DATABASE_URL",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "IP_HASH_SECRET",
] as const;
let checkedEnv: ApiEnv | undefined;

export function assertApiEnv(env: ApiEnv): void {
  if (checkedEnv === env) return;
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`api worker misconfigured: missing ${missing.join(", ")}`);
  checkedEnv = env;
}
