// Queue consumer for `webhooks`: conversion facts are expanded into deliveries (first attempts
// made at once), and `deliver` messages make one attempt each when due. A message that arrives
// early (a hop of a wait longer than the queue's 12 h delay, or a sub-second wait the queue cannot
// express) is re-sent or waited for. Failures to reach Postgres retry the message; its DLQ
// (`webhooks-dlq`) keeps what keeps failing.

import type { WebhookQueueMessage } from "@afftrack/core";
import type { ApiEnv } from "../config";
import type { Services } from "../services/factory";
import {
  attemptDelivery,
  type DeliveryDeps,
  enqueueAttempt,
  fanOutConversionFact,
} from "../services/webhook-delivery";

/** Under this, an early message is waited for in the consumer rather than sent round again. */
const MAX_INLINE_WAIT_MS = 1000;

async function handle(deps: DeliveryDeps, message: Message<WebhookQueueMessage>): Promise<void> {
  const body = message.body;
  if (body?.v !== 1) {
    deps.services.log.error("dropping malformed webhook message", undefined, { message_id: message.id });
    message.ack();
    return;
  }
  if (body.kind === "conversion") {
    await fanOutConversionFact(deps, body);
    message.ack();
    return;
  }
  const early = body.not_before - deps.services.now();
  if (early > MAX_INLINE_WAIT_MS) {
    await enqueueAttempt(deps, body, early);
    message.ack();
    return;
  }
  if (early > 0) await new Promise((r) => setTimeout(r, early));
  const result = await attemptDelivery(deps, body);
  // Someone else holds it: if they crash, this copy makes the attempt once their lease ends.
  if (result === "busy") message.retry({ delaySeconds: 60 });
  else message.ack();
}

export async function consumeWebhooks(
  batch: MessageBatch<WebhookQueueMessage>,
  services: Services,
  env: ApiEnv,
): Promise<void> {
  const deps: DeliveryDeps = { services, queue: env.WEBHOOKS };
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await handle(deps, message);
      } catch (err) {
        services.log.error("webhook message failed, retrying", err, { message_id: message.id });
        message.retry({ delaySeconds: Math.min(300, 5 * 2 ** Math.min(message.attempts, 6)) });
      }
    }),
  );
}
