// The stacks a test run shares, started once each by the global setup. A test that needs other
// settings adds a variant here rather than starting a stack of its own.

import type { StackOptions } from "../packages/devstack/src/stack";

export const STACK_VARIANTS = {
  /** The settings `pnpm dev` uses. */
  default: {},
  /** No isolate cache at the edge: a test sees the Redis record the API just wrote. */
  noLinkCache: { edgeVars: { LINK_CACHE_SECONDS: "0" } },
  /** A 1 s isolate cache, to test what happens when a cached record expires. */
  shortLinkCache: { edgeVars: { LINK_CACHE_SECONDS: "1" } },
  /** Unsigned legacy links count (ALLOW_LEGACY_TRACKING_CODES). */
  legacyLinks: { edgeVars: { ALLOW_LEGACY_TRACKING_CODES: "true" } },
  /** Tight hourly rate limit, to test the hourly window; and 5 signed links per minute. */
  hourlyLimit: {
    apiVars: { RATE_LIMIT_PER_MINUTE: "100", RATE_LIMIT_PER_HOUR: "5", SIGN_LIMIT_PER_MINUTE: "5" },
  },
  /** The production registration throttle (5 per client per hour) with a low global ceiling. */
  registerLimit: { apiVars: { REGISTER_LIMIT_PER_HOUR: "5", REGISTER_LIMIT_GLOBAL_PER_HOUR: "8" } },
  /** Used by one test only, so its Redis round trips can be counted at the gateway. */
  roundTrips: {},
  /** Redis unreachable behind the gateway. */
  redisDown: { redisUrl: "redis://127.0.0.1:1/0" },
  /** Postgres unreachable behind the Neon endpoints. */
  postgresDown: { databaseUrl: "postgres://postgres@127.0.0.1:1/afftrack_down" },
  /** Webhook retries on a fast clock: the 3-day schedule (and the 5-day disable rule) × 0.00002. */
  webhooks: { apiVars: { WEBHOOK_RETRY_SCALE: "0.00002" } },
  /** Tight tracker and widget limits (per access key, per client IP) and a 2-socket widget channel. */
  trackerLimits: {
    apiVars: {
      TRACKER_LIMIT_PER_MINUTE: "3",
      TRACKER_IP_LIMIT_PER_MINUTE: "5",
      WIDGET_LIMIT_PER_MINUTE: "4",
      WIDGET_SOCKET_CAP: "2",
    },
  },
} satisfies Record<string, StackOptions>;

export type StackVariant = keyof typeof STACK_VARIANTS;

/** What a test file learns of a shared stack (it runs in another process). */
export interface SharedStackInfo {
  edgeUrl: string;
  apiUrl: string;
  databaseUrl: string;
  redisRestUrl: string;
  redisRestToken: string;
  jwtSecret: string;
  ipHashSecret: string;
}
