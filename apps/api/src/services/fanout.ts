// After a conversion commits, this is the one place that tells the world: it queues the fact for
// the `webhooks` consumer (JSON webhooks and publisher postback URLs). Delivery never runs inside
// the request; the send itself runs in waitUntil, after the response. Live channels add
// themselves here.

import { sendBatchesOf, type WebhookQueueMessage } from "@afftrack/core";
import { type AppContext, waitUntilOf } from "../context";
import { createMicroBatcher } from "./micro-batch";

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
  // Without an execution context (a unit test's app.request): sent without waiting.
  const waitUntil = waitUntilOf(c);
  const send = async () => {
    try {
      // With concurrent requests' messages: one sendBatch (see micro-batch.ts).
      await sender.submit({ queue, message }, { waitUntil });
    } catch (err) {
      // One retry, alone: a failed send in waitUntil is otherwise lost (FACTS: Cloudflare Queues).
      try {
        await queue.send(message);
      } catch {
        log.error("webhook fan-out lost", err, { conversion_id: change.conversion_id, type: change.type });
      }
    }
  };
  if (waitUntil) waitUntil(send());
  else void send();
}

/** Messages in one sendBatch at most (Cloudflare Queues: 100 messages, 256 KB). */
const SEND_BATCH_MAX = 100;
/**
 * How long the first send of a batch waits for others, ms. The send runs after the answer (in
 * waitUntil), so the window costs no postback any latency, only its webhook a few ms; each
 * sendBatch it saves is a queue-broker call on the worker's thread.
 */
export const SEND_BATCH_WINDOW_MS = 10;

interface Send {
  queue: Queue<WebhookQueueMessage>;
  message: WebhookQueueMessage;
}

/** Sends of concurrent requests in one sendBatch, through the leader's own binding. */
const sender = createMicroBatcher<Send, void>({
  windowMs: SEND_BATCH_WINDOW_MS,
  maxItems: SEND_BATCH_MAX,
  async run(sends) {
    const leader = sends[0];
    if (leader) {
      for (const group of sendBatchesOf(sends.map((s) => ({ body: s.message })))) {
        await leader.queue.sendBatch(group);
      }
    }
    return sends.map(() => ({ ok: true, value: undefined }));
  },
});
