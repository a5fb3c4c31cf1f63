// The influencer tracker's hot path: rate limits and the unknown-key marker in one Redis round
// trip, access keys and products read through short isolate caches, one SQL statement per event,
// then (after commit, in waitUntil) the widget channel is told.

import {
  ApiError,
  classifyUserAgent,
  clientNetworkOf,
  hashIp,
  newTrackerDayKey,
  quarterHourOf,
  sha256Hex,
  TRACKER_DAY_KEY_TTL_SECONDS,
  type TrackerEventInput,
  trackerDayKeyName,
  trackerViewerHash,
  type WidgetEvent,
  type WidgetNotice,
} from "@afftrack/core";
import {
  authenticateTrackerKey,
  findTrackerProduct,
  type RecordedTrackerEvent,
  recordTrackerEvent,
  type TrackerKeyOwner,
  type TrackerProductRecord,
  type WidgetTotals,
  widgetTotals,
} from "@afftrack/db";
import type { ApiEnv } from "../config";
import type { AppContext } from "../context";
import { isOutage } from "../errors";
import { takeRateLimit } from "../middleware/rate-limit";
import type { Services } from "./factory";
import { createIsolateCache, INGEST_CACHE_TTL_MS } from "./isolate-cache";
import { describeError } from "./logger";

const keys = createIsolateCache<TrackerKeyOwner | null>({ ttlMs: INGEST_CACHE_TTL_MS });
const products = createIsolateCache<TrackerProductRecord | null>({ ttlMs: INGEST_CACHE_TTL_MS });

/** The key's customer, or null for an unknown or revoked key (seen within INGEST_CACHE_TTL_MS). */
export function trackerKeyOwner(services: Services, key: string): Promise<TrackerKeyOwner | null> {
  return keys.get(key, () => authenticateTrackerKey(services.db(), key));
}

/** How long Redis remembers that an access key is unknown, so made-up keys cannot each cost a query. */
export const UNKNOWN_TRACKER_KEY_SECONDS = 30;

/** The Redis key of the unknown-key marker: a digest of the access key, never the key itself. */
export async function unknownTrackerKeyName(key: string): Promise<string> {
  return `tracker:unknown-key:${(await sha256Hex(key)).slice(0, 32)}`;
}

/** The client for per-IP limits: the keyed hash of its address (IPv6: its /64), never the IP. */
async function clientOf(c: AppContext): Promise<string> {
  const ip = c.req.header("cf-connecting-ip")?.trim() || "unknown";
  return hashIp(c.get("config").ipHashSecret, clientNetworkOf(ip));
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function attempt<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

function redisUnavailable(c: AppContext, err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  c.get("log").error("redis unavailable for the tracker", err);
  return new ApiError("SERVICE_UNAVAILABLE", "Service temporarily unavailable, try again later");
}

/**
 * The postback's guard: the per-key and per-client rate limits and the unknown-key marker are
 * issued together (one pipelined Redis round trip), then the key is read through the isolate cache
 * (Postgres on a miss); a key Postgres does not know is remembered in Redis for 30 s. Throws
 * RATE_LIMITED (429, Retry-After), INVALID_API_KEY (401) or SERVICE_UNAVAILABLE (503).
 */
export async function guardTrackerKey(c: AppContext, key: string): Promise<TrackerKeyOwner> {
  const services = c.get("services");
  const config = c.get("config");
  const [marker, client] = await Promise.all([unknownTrackerKeyName(key), clientOf(c)]);
  const [byKey, byClient, unknown] = await Promise.all([
    attempt(() =>
      takeRateLimit(
        c,
        { id: marker.slice(marker.lastIndexOf(":") + 1) },
        {
          prefix: "rl:tracker:key",
          perMinute: config.trackerLimitPerMinute,
          perHour: config.trackerLimitPerMinute * 60,
        },
      ),
    ),
    attempt(() =>
      takeRateLimit(
        c,
        { id: client },
        {
          prefix: "rl:tracker:ip",
          perMinute: config.trackerIpLimitPerMinute,
          perHour: config.trackerIpLimitPerMinute * 60,
        },
      ),
    ),
    attempt(() => services.redis.exists(marker)),
  ]);
  if (!byKey.ok) throw redisUnavailable(c, byKey.error);
  if (!byClient.ok) throw redisUnavailable(c, byClient.error);
  if (!unknown.ok) throw redisUnavailable(c, unknown.error);
  if (unknown.value > 0) throw new ApiError("INVALID_API_KEY", "Unknown or revoked access key");
  const owner = await trackerKeyOwner(services, key);
  if (!owner) {
    c.executionCtx.waitUntil(
      services.redis
        .set(marker, "1", { nx: true, ex: UNKNOWN_TRACKER_KEY_SECONDS })
        .catch((err) => c.get("log").warn("could not remember an unknown access key", describeError(err))),
    );
    throw new ApiError("INVALID_API_KEY", "Unknown or revoked access key");
  }
  return owner;
}

/** Per-client limit of the widget's counter and socket (one Redis round trip). */
export async function limitWidgetClient(c: AppContext): Promise<void> {
  const perMinute = c.get("config").widgetLimitPerMinute;
  const taken = await attempt(async () =>
    takeRateLimit(
      c,
      { id: await clientOf(c) },
      { prefix: "rl:widget:ip", perMinute, perHour: perMinute * 60 },
    ),
  );
  if (!taken.ok) throw redisUnavailable(c, taken.error);
}

/** The stored day key's value (a prefix keeps Upstash from reading an all-digit key as a number). */
const DAY_KEY_PREFIX = "k1.";
let dayKeyCache: { name: string; key: string } | undefined;

/**
 * The anti-cheat key of `nowMs`'s UTC day: random, made by the first isolate that needs it
 * (`SET NX` with a 26 h TTL, read back in the same round trip), then cached in the isolate until
 * the day changes. Once Redis lets it expire, that day's viewer hashes can never be recomputed.
 */
export async function trackerDayKey(services: Services, nowMs: number): Promise<string> {
  const name = trackerDayKeyName(nowMs);
  if (dayKeyCache?.name === name) return dayKeyCache.key;
  const [, stored] = await Promise.all([
    services.redis.set(name, `${DAY_KEY_PREFIX}${newTrackerDayKey()}`, {
      nx: true,
      ex: TRACKER_DAY_KEY_TTL_SECONDS,
    }),
    services.redis.get<string>(name),
  ]);
  if (typeof stored !== "string" || !stored.startsWith(DAY_KEY_PREFIX)) {
    services.log.error("the tracker's day key could not be read back from Redis");
    throw new ApiError("SERVICE_UNAVAILABLE", "Service temporarily unavailable, try again later");
  }
  const key = stored.slice(DAY_KEY_PREFIX.length);
  dayKeyCache = { name, key };
  return key;
}

export function trackerProduct(
  services: Services,
  customerId: string,
  code: string,
): Promise<TrackerProductRecord | null> {
  return products.get(`${customerId}|${code}`, () => findTrackerProduct(services.db(), customerId, code));
}

/** The widget channel's name: one Durable Object per customer, product and influencer. */
export function widgetChannelName(customerCode: string, product: string, influencerId: string): string {
  return `${customerCode}/${product}/${influencerId}`;
}

export async function recordTrackerPostback(
  services: Services,
  owner: TrackerKeyOwner,
  product: TrackerProductRecord,
  input: TrackerEventInput,
): Promise<RecordedTrackerEvent> {
  const nowMs = services.now();
  const eventType = input.event_type ?? "";
  let viewer_hash: string | null = null;
  if (product.anti_cheat && input.ip && input.user_agent) {
    let dayKey: string;
    try {
      dayKey = await trackerDayKey(services, nowMs);
    } catch (err) {
      if (!isOutage(err)) throw err;
      services.log.error("redis unavailable for the tracker's day key", err);
      throw new ApiError("SERVICE_UNAVAILABLE", "Service temporarily unavailable, try again later");
    }
    viewer_hash = await trackerViewerHash(dayKey, {
      ip: input.ip,
      userAgent: input.user_agent,
      productId: product.id,
      influencerId: input.influencer_id,
      eventType,
    });
  }
  const countable = product.event_types.length === 0 || product.event_types.includes(eventType);
  return recordTrackerEvent(services.db(), {
    tenant_id: owner.tenant_id,
    customer_id: owner.customer_id,
    product_id: product.id,
    influencer_id: input.influencer_id,
    event_type: input.event_type ?? null,
    event_name: input.event_name ?? null,
    campaign: input.campaign ?? null,
    medium: input.medium ?? null,
    source: input.source ?? null,
    country: input.country ?? null,
    device: input.user_agent ? classifyUserAgent(input.user_agent).device : null,
    viewer_hash,
    countable,
    now: new Date(nowMs),
    bucket: quarterHourOf(nowMs),
  });
}

export interface WidgetTarget {
  tenant_id: string;
  customer_code: string;
  product_id: string;
  product: string;
  influencer_id: string;
}

/**
 * Hands the event with the influencer's totals (the event's own statement returned them; they
 * are read when not given) to the widget channel, which broadcasts to its sockets. Returns how many sockets got it; never
 * throws (a widget that missed a message corrects itself from count.json).
 */
export async function notifyWidgets(
  env: ApiEnv,
  services: Services,
  target: WidgetTarget,
  event: WidgetEvent,
  known?: WidgetTotals | null,
): Promise<number> {
  const namespace = env.WIDGET_CHANNEL;
  if (!namespace) return 0;
  try {
    const totals = known ?? (await widgetTotals(services.db(), target));
    const notice: WidgetNotice = { event, total: totals.total, campaign_totals: totals.campaign_totals };
    const stub = namespace.get(
      namespace.idFromName(widgetChannelName(target.customer_code, target.product, target.influencer_id)),
    );
    const res = await stub.fetch("https://widget-channel/notify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(notice),
    });
    const body = (await res.json()) as { delivered?: number };
    return body.delivered ?? 0;
  } catch (err) {
    services.log.warn("widget notify failed", describeError(err));
    return 0;
  }
}
