// The server half of the web tracking script: checks what a browser posted and relays it as an SDK
// conversion.
//
// Trust model: the browser can only point at its click; the server decides what it is worth.
// Anyone can post anything to the relay endpoint (it is public, and the page's script is readable),
// so from the body the relay takes only the `transaction_id` and the `click_id` (which the visitor
// had anyway). The offer, the amount and currency, and the status come from the server; the
// conversion is recorded `pending` unless the server says otherwise, so a forged post pays nothing
// until the advertiser's backend approves the order (`updateConversionStatus`). An `event_type` is
// taken from the browser only when the server lists it in `eventTypes`.

import type { IngestClient, IngestResult } from "./client";

const CLICK_ID = /^clk_[0-9a-z]{9}[0-9A-Za-z]{14}$/;

/** What the advertiser's server decides about a conversion the browser reports. */
export interface RelayPolicy {
  offer_id: string;
  /** The order's amount from the server's own records (default: none, the API records 0). */
  amount?: number;
  currency?: string;
  /**
   * The status to record (default `pending`: approve it once the order is real). Pass `approved`
   * only when the server has checked the transaction itself.
   */
  status?: "pending" | "approved" | "rejected";
  /** The event type, decided by the server (takes precedence over the browser's). */
  event_type?: string;
  /** Event types the browser may name; any other is refused (default: none). */
  eventTypes?: readonly string[];
  /**
   * Take `amount` and `currency` from the browser when the server passes none (default false: a
   * browser's amount is ignored). Only for conversions that stay `pending` until reviewed.
   */
  trustBrowserAmount?: boolean;
}

/**
 * Relays a conversion posted by the web script to POST /api/sdk/conversion. Returns null when the
 * body is not a conversion or names an event type the policy does not allow (answer 400).
 *
 * @example
 * app.post("/afftrack/conversion", async (c) => {
 *   const order = await orders.find(body.transaction_id); // your record: what it is worth
 *   const r = await relayWebConversion(ingest, await c.req.json(), {
 *     offer_id: "off_…", amount: order.total, currency: order.currency,
 *   });
 *   return r ? c.json(r, r.ok ? 200 : 502) : c.json({ ok: false }, 400);
 * });
 */
export async function relayWebConversion(
  ingest: IngestClient,
  body: unknown,
  server: RelayPolicy,
): Promise<IngestResult<unknown> | null> {
  if (!body || typeof body !== "object") return null;
  const b = body as Record<string, unknown>;
  if (typeof b.transaction_id !== "string" || b.transaction_id.length === 0) return null;

  let eventType = server.event_type;
  if (eventType === undefined && b.event_type !== undefined && b.event_type !== null) {
    if (typeof b.event_type !== "string" || !(server.eventTypes ?? []).includes(b.event_type)) return null;
    eventType = b.event_type;
  }

  let amount = server.amount;
  let currency = server.currency;
  if (amount === undefined && server.trustBrowserAmount) {
    if (b.amount !== undefined && typeof b.amount !== "number") return null;
    amount = b.amount;
    if (currency === undefined && typeof b.currency === "string") currency = b.currency;
  }

  return ingest.trackConversion({
    offer_id: server.offer_id,
    transaction_id: b.transaction_id,
    click_id: typeof b.click_id === "string" && CLICK_ID.test(b.click_id) ? b.click_id : null,
    status: server.status ?? "pending",
    ...(amount === undefined ? {} : { amount }),
    ...(currency === undefined ? {} : { currency }),
    ...(eventType === undefined ? {} : { event_type: eventType }),
  });
}
