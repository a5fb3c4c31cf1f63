// After a conversion commits, this is the one place that tells the world: it queues the fact for
// the `webhooks` consumer (JSON webhooks and publisher postback URLs). Delivery never runs inside
// the request; the send itself runs in waitUntil, after the response. Live channels add
// themselves here.

import type { WebhookQueueMessage } from "@afftrack/core";
import type { AppContext } from "../context";

export interface ConversionChange {
  type: "conversion.created" | "conversion.updated";
  conversion_id: string;
  status: string;
  previous_status?: string | null;
}

/** Call after the conversion's transaction committed; never throws, never delays the answer. */
export function fanOutConversion(c: AppContext, change: ConversionChange): void {
  const queue = c.env.WEBHOOKS;
  const log = c.get("log");
  if (!queue) return;
  const message: WebhookQueueMessage = {
    v: 1,
    kind: "conversion",
    type: change.type,
    conversion_id: change.conversion_id,
    status: change.status,
    previous_status: change.previous_status ?? null,
    occurred_at: Date.now(),
  };
  const send = async () => {
    try {
      await queue.send(message);
    } catch (err) {
      // One retry: a failed send in waitUntil is otherwise lost (FACTS: Cloudflare Queues).
      try {
        await queue.send(message);
      } catch {
        log.error("webhook fan-out lost", err, { conversion_id: change.conversion_id, type: change.type });
      }
    }
  };
  try {
    c.executionCtx.waitUntil(send());
  } catch {
    // No execution context (a unit test's app.request): send without waiting.
    void send();
  }
}
