// The live event stream (`GET /api/stats/stream`, a WebSocket): clicks as the consumer writes them
// and conversions as they are created or change status, pushed to every dashboard of the tenant,
// each socket seeing only what its caller may see in the stats (same role scoping).

import * as v from "valibot";
import type { UserRole } from "../jwt";

export const LiveClickSchema = v.object({
  type: v.literal("click"),
  /** When the click happened (ms since the epoch). */
  at: v.number(),
  click_id: v.string(),
  offer_id: v.string(),
  publisher_id: v.string(),
  advertiser_id: v.string(),
  verdict: v.string(),
  /** Whether it counts as a valid click. */
  counted: v.boolean(),
  country: v.nullable(v.string()),
  device: v.nullable(v.string()),
  sub1: v.nullable(v.string()),
  /** Fraud rules that fired on it. */
  flags: v.array(v.string()),
});
export type LiveClick = v.InferOutput<typeof LiveClickSchema>;

export const LiveConversionSchema = v.object({
  type: v.literal("conversion"),
  change: v.picklist(["created", "updated"]),
  at: v.number(),
  conversion_id: v.string(),
  offer_id: v.string(),
  publisher_id: v.nullable(v.string()),
  advertiser_id: v.string(),
  event_type: v.string(),
  status: v.string(),
  previous_status: v.nullable(v.string()),
  /** The sale: the advertiser's revenue. Absent for publishers. */
  amount: v.optional(v.number()),
  currency: v.optional(v.string()),
  payout: v.number(),
  payout_currency: v.string(),
});
export type LiveConversion = v.InferOutput<typeof LiveConversionSchema>;

export type LiveEvent = LiveClick | LiveConversion;

/** What the stream sends: `hello` once (the scope it serves), then batches of events. */
export const LiveMessageSchema = v.variant("type", [
  v.object({
    type: v.literal("hello"),
    tenant_id: v.string(),
    role: v.string(),
  }),
  v.object({
    type: v.literal("events"),
    events: v.array(v.variant("type", [LiveClickSchema, LiveConversionSchema])),
  }),
]);
export type LiveMessage = v.InferOutput<typeof LiveMessageSchema>;

/** Who a socket belongs to: the same scope the stats endpoint applies. */
export interface LiveScope {
  role: UserRole;
  advertiser_id: string | null;
  publisher_id: string | null;
}

/**
 * The event as this caller may see it, or null: a network admin sees everything; an advertiser
 * their own offers' events; a publisher their own clicks and conversions, without the sale amount.
 */
export function liveEventFor(scope: LiveScope, event: LiveEvent): LiveEvent | null {
  if (scope.role === "network_admin") return event;
  if (scope.role === "advertiser") return event.advertiser_id === scope.advertiser_id ? event : null;
  if (event.publisher_id === null || event.publisher_id !== scope.publisher_id) return null;
  if (event.type === "conversion") {
    const { amount: _amount, currency: _currency, ...rest } = event;
    return rest;
  }
  return event;
}
