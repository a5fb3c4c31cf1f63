// The server half of the web tracking script: checks what a browser posted and relays it as an SDK
// conversion. The browser only names its click and the order; the offer comes from the server.

import type { IngestClient, IngestResult } from "./client";

const CLICK_ID = /^clk_[0-9a-z]{9}[0-9A-Za-z]{14}$/;

/**
 * Relays a conversion posted by the web script to POST /api/sdk/conversion. Returns null when the
 * body is not a conversion (answer 400). Prefer the amount of your own order record to the page's.
 *
 * @example
 * app.post("/afftrack/conversion", async (c) => {
 *   const r = await relayWebConversion(ingest, await c.req.json(), { offer_id: "off_…" });
 *   return r ? c.json(r, r.ok ? 200 : 502) : c.json({ ok: false }, 400);
 * });
 */
export async function relayWebConversion(
  ingest: IngestClient,
  body: unknown,
  server: { offer_id: string; amount?: number; currency?: string },
): Promise<IngestResult<unknown> | null> {
  if (!body || typeof body !== "object") return null;
  const b = body as Record<string, unknown>;
  if (typeof b.transaction_id !== "string" || b.transaction_id.length === 0) return null;
  const amount = server.amount ?? b.amount;
  if (amount !== undefined && typeof amount !== "number") return null;
  const currency = server.currency ?? (typeof b.currency === "string" ? b.currency : undefined);
  return ingest.trackConversion({
    offer_id: server.offer_id,
    transaction_id: b.transaction_id,
    click_id: typeof b.click_id === "string" && CLICK_ID.test(b.click_id) ? b.click_id : null,
    ...(amount === undefined ? {} : { amount }),
    ...(currency === undefined ? {} : { currency }),
    ...(typeof b.event_type === "string" ? { event_type: b.event_type } : {}),
  });
}
