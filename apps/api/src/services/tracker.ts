// The influencer tracker's hot path: access keys and products read through short isolate caches,
// one SQL statement per event, then (after commit, in waitUntil) the widget channel is told.

import {
  classifyUserAgent,
  quarterHourOf,
  type TrackerEventInput,
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
import type { Services } from "./factory";
import { createIsolateCache, INGEST_CACHE_TTL_MS } from "./isolate-cache";
import { describeError } from "./logger";

const keys = createIsolateCache<TrackerKeyOwner | null>({ ttlMs: INGEST_CACHE_TTL_MS });
const products = createIsolateCache<TrackerProductRecord | null>({ ttlMs: INGEST_CACHE_TTL_MS });

/** The key's customer, or null for an unknown or revoked key (seen within INGEST_CACHE_TTL_MS). */
export function trackerKeyOwner(services: Services, key: string): Promise<TrackerKeyOwner | null> {
  return keys.get(key, () => authenticateTrackerKey(services.db(), key));
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
  const viewer_hash =
    product.anti_cheat && input.ip && input.user_agent
      ? await trackerViewerHash(
          services.config.ipHashSecret,
          {
            ip: input.ip,
            userAgent: input.user_agent,
            productId: product.id,
            influencerId: input.influencer_id,
            eventType,
          },
          nowMs,
        )
      : null;
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
