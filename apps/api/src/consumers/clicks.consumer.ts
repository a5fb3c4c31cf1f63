// Queue consumer for `clicks`: validates every click of every message (the edge packs a window's
// clicks into one message), writes the whole batch with one statement
// (clicks + fraud events + rollups), acks on commit. Delivery is at-least-once; the click_id
// primary key makes redelivery harmless. After commit: the live feed, and the batch's fraud events
// as ONE `fraud` message on the `webhooks` queue (expanded there into `fraud.detected` deliveries;
// their ids come from click_id + kind, so a redelivered click delivers nothing twice).

import { type ClickEvent, clickEventsOf, fraudFactsOfClicks, type WebhookQueueMessage } from "@afftrack/core";
import { insertClickBatch, insertClickBatchReturningIds } from "@afftrack/db";
import type { Services } from "../services/factory";
import { type LiveNamespace, liveClickOf, publishLive } from "../services/live";
import { queueFraudFacts } from "../services/webhook-delivery";

export async function consumeClicks(
  batch: MessageBatch<unknown>,
  services: Services,
  live?: LiveNamespace,
  webhooks?: Queue<WebhookQueueMessage>,
): Promise<void> {
  const { log } = services;
  const events: ClickEvent[] = [];
  for (const message of batch.messages) {
    const { events: found, rejected } = clickEventsOf(message.body);
    events.push(...found);
    if (rejected > 0) {
      // Retrying cannot fix a malformed click; drop it loudly (no body: it may hold sub IDs).
      log.error("dropping malformed clicks", undefined, { message_id: message.id, count: rejected });
    }
    if (found.length === 0) message.ack();
  }
  if (events.length === 0) return;
  try {
    const inserted = new Set(await insertClickBatchReturningIds(services.db(), events));
    for (const message of batch.messages) message.ack();
    // After commit: the tenants' live feeds (best effort, never retried; only the clicks this
    // delivery wrote, so a redelivered batch is not shown twice) and fraud.detected.
    await Promise.all([
      publishLive(live, events.filter((e) => inserted.has(e.click_id)).map(liveClickOf), log),
      queueFraudFacts(webhooks, fraudFactsOfClicks(events), log),
    ]);
  } catch (err) {
    log.error("click batch failed, retrying message by message", err, { size: events.length });
    await settleOneByOne(services, batch, webhooks);
  }
}

/**
 * A batch statement failed: write each message on its own, so one message Postgres refuses
 * (a data error, SQLSTATE class 22) is dropped and logged instead of holding back its batch
 * through every retry. Other failures (connection, server) are retried with backoff.
 */
async function settleOneByOne(
  services: Services,
  batch: MessageBatch<unknown>,
  webhooks: Queue<WebhookQueueMessage> | undefined,
): Promise<void> {
  for (const message of batch.messages) {
    const { events } = clickEventsOf(message.body);
    if (events.length === 0) continue;
    try {
      await insertClickBatch(services.db(), events);
      message.ack();
      await queueFraudFacts(webhooks, fraudFactsOfClicks(events), services.log);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && code.startsWith("22")) {
        services.log.error("dropping clicks postgres refused", err, {
          message_id: message.id,
          count: events.length,
          sqlstate: code,
        });
        message.ack();
      } else {
        message.retry({ delaySeconds: Math.min(60, 2 ** Math.min(message.attempts, 6)) });
      }
    }
  }
}
