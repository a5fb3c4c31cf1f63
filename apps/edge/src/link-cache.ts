// Link records, fastest source first: the isolate cache (no I/O), one Redis GET, then the API
// worker over the service binding (Postgres), which also refills Redis. A Redis outage degrades
// to the service binding instead of failing the redirect. A code the API does not know is
// remembered in Redis for a while too, so made-up codes cannot each cost a Postgres lookup.

import { type LinkRecord, linkKey, shortKey } from "@afftrack/core";
import { Redis } from "@upstash/redis/cloudflare";
import type { EdgeEnv } from "./env";

interface CacheEntry {
  record: LinkRecord | null;
  expiresAt: number;
}

const cache = new Map<string, CacheEntry>();
/** Lookups in flight, so a burst of clicks on a cold link costs one Redis GET, not one each. */
const pending = new Map<string, Promise<LinkRecord | null>>();
const CACHE_LIMIT = 10_000;
const NEGATIVE_CACHE_MS = 5_000;
/**
 * What Redis holds, at the record's own key, for a code the API answered "no such link" for. Set
 * only where no record is (NX), so it never hides a record the API wrote meanwhile, and the API
 * overwrites it when it writes the link's record (on join or any change).
 */
export const UNKNOWN_LINK_MARKER = "unknown";
export const UNKNOWN_LINK_SECONDS = 30;
/** How long past its expiry a record may still be served while another request refreshes it. */
const STALE_GRACE_MS = 10_000;
/** A waiting request re-arms a timer of its own this often (see followLookup). */
const FOLLOW_TICK_MS = 100;
/** How long a request waits for another request's lookup of the same link before doing its own. */
const FOLLOW_MAX_MS = 5_000;

let redisFor: { env: EdgeEnv; redis: Redis } | undefined;

export function edgeRedis(env: EdgeEnv): Redis {
  if (redisFor?.env !== env) {
    redisFor = {
      env,
      redis: new Redis({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
        // A visitor is waiting: fail fast and fall back rather than retry with backoff.
        retry: false,
        // Replies are parsed here, not by trial JSON.parse of every "OK" (an exception each).
        automaticDeserialization: false,
        // Plain JSON replies: every value the edge reads or writes is UTF-8 text (JSON records,
        // "OK", counters), so the base64 round trip (encoded by Upstash, decoded here, for every
        // reply of every pipeline) buys nothing.
        responseEncoding: false,
        enableTelemetry: false,
        // The client is shared by the isolate's requests: auto-pipelining would put one request's
        // command into a pipeline another request sends, leaving it waiting only on that request's
        // I/O, which workerd cancels as hung. The edge batches its own calls in explicit pipelines.
        enableAutoPipelining: false,
      }),
    };
  }
  return redisFor.redis;
}

function parseLinkRecord(raw: string): LinkRecord | null {
  try {
    const parsed = JSON.parse(raw) as LinkRecord;
    return parsed.v === 1 ? parsed : null;
  } catch {
    return null;
  }
}

export type LinkLookup = { trackingCode: string } | { shortCode: string };

function cacheKey(by: LinkLookup): string {
  return "trackingCode" in by ? linkKey(by.trackingCode) : shortKey(by.shortCode);
}

export async function getLinkRecord(
  env: EdgeEnv,
  by: LinkLookup,
  cacheMs: number,
): Promise<LinkRecord | null> {
  const key = cacheKey(by);
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.expiresAt > now) return hit.record;
  const inFlight = pending.get(key);
  if (inFlight) {
    // Another request is already refreshing this record: serve the one that just expired, briefly.
    if (hit && hit.expiresAt + STALE_GRACE_MS > now) return hit.record;
    return followLookup(inFlight, () => fetchLinkRecord(env, by, key, cacheMs));
  }
  const lookup = fetchLinkRecord(env, by, key, cacheMs).finally(() => pending.delete(key));
  pending.set(key, lookup);
  return lookup;
}

/**
 * Waits for a lookup started by another request. The runtime cancels a request that waits only on
 * another request's I/O as hung, so this one keeps a short timer of its own pending while it
 * waits; only if the other lookup takes very long does it look the link up itself (a burst of
 * followers doing their own lookups at once would be the stampede this coalescing prevents).
 */
async function followLookup(
  shared: Promise<LinkRecord | null>,
  own: () => Promise<LinkRecord | null>,
): Promise<LinkRecord | null> {
  const deadline = Date.now() + FOLLOW_MAX_MS;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<"tick">((resolve) => {
      timer = setTimeout(() => resolve("tick"), FOLLOW_TICK_MS);
    });
    try {
      const first = await Promise.race([shared, tick]);
      if (first !== "tick") return first;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (Date.now() >= deadline) return own();
  }
}

async function fetchLinkRecord(
  env: EdgeEnv,
  by: LinkLookup,
  key: string,
  cacheMs: number,
): Promise<LinkRecord | null> {
  const now = Date.now();
  let record: LinkRecord | null | undefined;
  let redisUp = false;
  try {
    const raw = await edgeRedis(env).get<string>(key);
    redisUp = true;
    if (raw === UNKNOWN_LINK_MARKER) record = null;
    else record = (raw ? parseLinkRecord(raw) : null) ?? undefined;
  } catch (err) {
    console.warn(JSON.stringify({ msg: "redis unavailable for link lookup", error: String(err) }));
  }
  if (record === undefined) {
    record = await env.LINKS.resolveLink(by);
    if (!record && redisUp) await rememberUnknown(env, key);
  }

  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, { record, expiresAt: now + (record ? cacheMs : Math.min(cacheMs, NEGATIVE_CACHE_MS)) });
  return record;
}

async function rememberUnknown(env: EdgeEnv, key: string): Promise<void> {
  try {
    await edgeRedis(env).set(key, UNKNOWN_LINK_MARKER, { nx: true, ex: UNKNOWN_LINK_SECONDS });
  } catch (err) {
    console.warn(JSON.stringify({ msg: "could not remember an unknown link", error: String(err) }));
  }
}
