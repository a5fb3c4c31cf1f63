// Per-API-key rate limits (seed: 60/minute and 1,000/hour) with @upstash/ratelimit sliding windows
// on the request's Redis. X-RateLimit-* headers go on every response after authentication.
// Fails closed: Ratelimit's timeout (which lets requests through when Redis is slow) and its
// in-isolate ephemeral cache are off, so a Redis failure is a 503, never a silent pass.

import { ApiError } from "@afftrack/core";
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { AppContext } from "../context";

declare module "../context" {
  interface ApiVariables {
    /** Set by the ingest guards: how many of the request's `cost` units were granted (batch events). */
    rateLimitGranted?: number;
  }
}

export interface RateLimitOptions {
  /** Requests per minute per key; default the config's (RATE_LIMIT_PER_MINUTE, else 60). */
  perMinute?: number;
  /** Requests per hour per key; default the config's (RATE_LIMIT_PER_HOUR, else 1000). */
  perHour?: number;
  /**
   * Units this request costs (a batch: one per event). When fewer remain, the request is granted
   * what remains (read it with rateLimitGrantedOf) and refused with 429 only if nothing remains.
   */
  cost?: number;
  /** Redis key prefix (default "rl:ingest"). */
  prefix?: string;
}

interface Window {
  limit: number;
  remaining: number;
  reset: number;
}

const limiters = new WeakMap<Redis, Map<string, Ratelimit>>();

function limiterFor(redis: Redis, prefix: string, tokens: number, window: "1 m" | "1 h"): Ratelimit {
  let byConfig = limiters.get(redis);
  if (!byConfig) {
    byConfig = new Map();
    limiters.set(redis, byConfig);
  }
  const id = `${prefix}|${tokens}|${window}`;
  let limiter = byConfig.get(id);
  if (!limiter) {
    limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(tokens, window),
      prefix: `${prefix}:${window === "1 m" ? "m" : "h"}`,
      ephemeralCache: false,
      timeout: 0,
      analytics: false,
      enableTelemetry: false,
    });
    byConfig.set(id, limiter);
  }
  return limiter;
}

function setHeaders(c: AppContext, windows: readonly Window[]): Window {
  // Report the window closest to refusing, so a client slowing down to it satisfies both.
  const tight = windows.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  c.header("X-RateLimit-Limit", String(tight.limit));
  c.header("X-RateLimit-Remaining", String(Math.max(0, tight.remaining)));
  c.header("X-RateLimit-Reset", String(Math.ceil(tight.reset / 1000)));
  return tight;
}

function refuse(c: AppContext, windows: readonly Window[]): never {
  const blocking = windows.filter((w) => w.remaining <= 0);
  const reset = Math.max(...(blocking.length ? blocking : windows).map((w) => w.reset));
  c.header("Retry-After", String(Math.max(1, Math.ceil((reset - Date.now()) / 1000))));
  throw new ApiError("RATE_LIMITED", "Too many requests, try again later");
}

/**
 * Takes `cost` units of the key's limits (one atomic check-and-count per unit and window) and sets
 * the X-RateLimit-* headers; answers how many units were granted, or throws RATE_LIMITED (429 with
 * Retry-After) when none were, SERVICE_UNAVAILABLE when Redis cannot be reached. Its Redis calls
 * are issued at once, so they share a round trip with whatever the caller issues beside them.
 *
 * @example
 * const granted = await takeRateLimit(c, apiKeyOf(c), { cost: events.length });
 */
export async function takeRateLimit(
  c: AppContext,
  key: { id: string },
  opts: RateLimitOptions = {},
): Promise<number> {
  const prefix = opts.prefix ?? "rl:ingest";
  const redis = c.get("redis");
  const minute = limiterFor(redis, prefix, opts.perMinute ?? c.get("config").rateLimitPerMinute, "1 m");
  const hour = limiterFor(redis, prefix, opts.perHour ?? c.get("config").rateLimitPerHour, "1 h");
  const cost = Math.max(1, Math.trunc(opts.cost ?? 1));
  try {
    return cost === 1
      ? await takeOne(c, minute, hour, key.id)
      : await takeMany(c, minute, hour, key.id, cost);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    c.get("log").error("rate limiter unavailable", err, { key_id: key.id });
    throw new ApiError("SERVICE_UNAVAILABLE", "Rate limiter unavailable, try again later");
  }
}

async function takeOne(c: AppContext, minute: Ratelimit, hour: Ratelimit, id: string): Promise<number> {
  const [m, h] = await Promise.all([minute.limit(id), hour.limit(id)]);
  setHeaders(c, [m, h]);
  if (m.success && h.success) return 1;
  // A refused window did not count the request; give back the one that did.
  if (m.success) await minute.limit(id, { rate: -1 });
  if (h.success) await hour.limit(id, { rate: -1 });
  refuse(c, [m, h]);
}

/**
 * A multi-unit request (a batch) takes its units one at a time: each unit is one atomic
 * check-and-count in Redis (the calls share one pipelined round trip), so concurrent batches of
 * the same key can never take more between them than the limits allow. (Asking how much remains
 * and then taking that much could be overtaken by a concurrent request in between.) Units one
 * window granted but the other refused are given back.
 */
async function takeMany(c: AppContext, minute: Ratelimit, hour: Ratelimit, id: string, cost: number) {
  const units = await Promise.all(
    Array.from({ length: cost }, () => Promise.all([minute.limit(id), hour.limit(id)])),
  );
  let granted = 0;
  const refunds: Promise<unknown>[] = [];
  for (const [m, h] of units) {
    if (m.success && h.success) granted++;
    else {
      if (m.success) refunds.push(minute.limit(id, { rate: -1 }));
      if (h.success) refunds.push(hour.limit(id, { rate: -1 }));
    }
  }
  await Promise.all(refunds);
  const windows = [0, 1].map((w) =>
    units.map((u) => u[w as 0 | 1]).reduce((a, b) => (b.remaining < a.remaining ? b : a)),
  );
  const tight = windows.map((r) => ({ ...r, remaining: r.success ? r.remaining : 0 }));
  setHeaders(c, tight);
  if (granted === 0) refuse(c, tight);
  return granted;
}

export function rateLimitGrantedOf(c: AppContext): number {
  return c.get("rateLimitGranted") ?? 1;
}
