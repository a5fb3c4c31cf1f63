// Queue consumer for `webhooks`: conversion facts and fraud facts are expanded into deliveries,
// and `deliver` messages each ask for one attempt when due. A whole batch is settled together:
// the expansions run concurrently, then every attempt the batch holds is claimed in one
// statement, sent concurrently (bounded), and logged in one statement (see attemptDeliveries).
// A message that arrives early (a hop of a wait longer than the queue's 12 h delay, or a
// sub-second wait the queue cannot express) is re-sent or waited for. Failures to reach Postgres
// retry the message; its DLQ (`webhooks-dlq`) keeps what keeps failing.

import type { WebhookQueueMessage } from "@afftrack/core";
import type { ApiEnv } from "../config";
import type { Services } from "../services/factory";
import {
  type AttemptJob,
  attemptDeliveries,
  type DeliveryDeps,
  enqueueAttempts,
  fanOutConversionFacts,
  fanOutFraud,
} from "../services/webhook-delivery";

/** Under this, an early message is waited for in the consumer rather than sent round again. */
const MAX_INLINE_WAIT_MS = 1000;

const retryDelay = (message: Message<unknown>) => Math.min(300, 5 * 2 ** Math.min(message.attempts, 6));

export async function consumeWebhooks(
  batch: MessageBatch<WebhookQueueMessage>,
  services: Services,
  env: ApiEnv,
): Promise<void> {
  const deps: DeliveryDeps = { services, queue: env.WEBHOOKS, live: env.LIVE_CHANNEL };
  const { log } = services;
  const failed = (message: Message<WebhookQueueMessage>, err: unknown) => {
    log.error("webhook message failed, retrying", err, { message_id: message.id });
    message.retry({ delaySeconds: retryDelay(message) });
  };
  // Jobs with the message that asked for them (a fan-out's jobs are acked with its message).
  const jobs: { job: AttemptJob; message: Message<WebhookQueueMessage>; direct: boolean; wait: number }[] =
    [];
  const early: { job: AttemptJob; delayMs: number; message: Message<WebhookQueueMessage> }[] = [];
  const settled = new Set<Message<WebhookQueueMessage>>();
  const now = services.now();
  // The batch's conversion facts fan out together: a few statements for all of them.
  const conversions = batch.messages.filter(
    (m): m is Message<Extract<WebhookQueueMessage, { kind: "conversion" }>> =>
      m.body?.v === 1 && m.body.kind === "conversion",
  );
  const fanOut = async () => {
    if (conversions.length === 0) return;
    try {
      const found = await fanOutConversionFacts(
        deps,
        conversions.map((m) => m.body),
      );
      conversions.forEach((message, i) => {
        for (const job of found[i] ?? []) jobs.push({ job, message, direct: false, wait: 0 });
      });
    } catch (err) {
      if (conversions.length === 1) {
        failed(conversions[0] as Message<WebhookQueueMessage>, err);
        settled.add(conversions[0] as Message<WebhookQueueMessage>);
        return;
      }
      // One bad fact (a secret sealed under a key no longer configured, say) must not send the
      // whole batch, other tenants' conversions included, to the dead-letter queue with it: each
      // message on its own, and only those that fail again are retried.
      log.error("conversion fan-out batch failed, retrying message by message", err, {
        size: conversions.length,
      });
      for (const message of conversions) {
        try {
          const [found] = await fanOutConversionFacts(deps, [message.body]);
          for (const job of found ?? []) jobs.push({ job, message, direct: false, wait: 0 });
        } catch (one) {
          failed(message, one);
          settled.add(message);
        }
      }
    }
  };
  const fanOutDone = fanOut();
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = message.body;
      try {
        if (body?.v !== 1) {
          log.error("dropping malformed webhook message", undefined, { message_id: message.id });
          message.ack();
          settled.add(message);
        } else if (body.kind === "conversion") {
          // In fanOut() above.
        } else if (body.kind === "fraud") {
          const found = await fanOutFraud(deps, body);
          for (const job of found) jobs.push({ job, message, direct: false, wait: 0 });
        } else if (body.kind === "deliver") {
          const job = { delivery_id: body.delivery_id, attempt: body.attempt, trigger: body.trigger };
          const wait = body.not_before - now;
          if (wait > MAX_INLINE_WAIT_MS) early.push({ job, delayMs: wait, message });
          else jobs.push({ job, message, direct: true, wait });
        } else {
          log.error("dropping webhook message of unknown kind", undefined, { message_id: message.id });
          message.ack();
          settled.add(message);
        }
      } catch (err) {
        failed(message, err);
        settled.add(message);
      }
    }),
  );
  await fanOutDone;
  try {
    if (early.length > 0) await enqueueAttempts(deps, early);
    for (const e of early) {
      e.message.ack();
      settled.add(e.message);
    }
  } catch (err) {
    for (const e of early) {
      failed(e.message, err);
      settled.add(e.message);
    }
  }
  // Attempts due now go at once; those due within a second wait for it, beside them.
  const attempt = async (group: typeof jobs) => {
    if (group.length === 0) return;
    const waitMs = Math.max(...group.map((j) => j.wait));
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    try {
      const busy = await attemptDeliveries(
        deps,
        group.map((j) => j.job),
      );
      for (const { job, message, direct } of group) {
        // Someone else holds it: if they crash, this copy makes the attempt once their lease ends.
        if (direct && busy.has(job.delivery_id) && !settled.has(message)) {
          message.retry({ delaySeconds: 60 });
          settled.add(message);
        }
      }
    } catch (err) {
      for (const { message } of group) {
        if (settled.has(message)) continue;
        failed(message, err);
        settled.add(message);
      }
    }
  };
  await Promise.all([attempt(jobs.filter((j) => j.wait <= 0)), attempt(jobs.filter((j) => j.wait > 0))]);
  for (const message of batch.messages) if (!settled.has(message)) message.ack();
}
