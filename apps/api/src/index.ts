// The API worker's entry: the HTTP app, the queue consumer, the edge's RPC entrypoint and the
// Durable Object classes.

import type { ClickBatchMessage, ClickEvent, WebhookQueueMessage } from "@afftrack/core";
import { app } from "./app";
import type { ApiEnv } from "./config";
import { consumeClicks } from "./consumers/clicks.consumer";
import { consumeWebhooks } from "./consumers/webhooks.consumer";
import { createServices } from "./services/factory";
import { rewriteTrackerHost } from "./tracker-hosts";

export { EdgeService } from "./edge-service";
export { LiveChannel } from "./live-channel.do";
export { WidgetChannel } from "./widget-channel.do";

type QueueMessage = ClickEvent | ClickBatchMessage | WebhookQueueMessage;

export default {
  fetch: (request, env, ctx) => {
    const routed = rewriteTrackerHost(request, env.TRACKER_HOST_SUFFIX);
    return routed instanceof Response ? routed : app.fetch(routed, env, ctx);
  },
  async queue(batch: MessageBatch<QueueMessage>, env: ApiEnv, ctx: ExecutionContext) {
    const services = createServices(env, { log: { queue: batch.queue, messages: batch.messages.length } });
    try {
      if (batch.queue.startsWith("clicks"))
        await consumeClicks(
          batch as MessageBatch<ClickEvent | ClickBatchMessage>,
          services,
          env.LIVE_CHANNEL,
          env.WEBHOOKS,
        );
      else if (batch.queue.startsWith("webhooks"))
        await consumeWebhooks(batch as MessageBatch<WebhookQueueMessage>, services, env);
      else services.log.error("message for unknown queue", undefined, { queue: batch.queue });
    } finally {
      ctx.waitUntil(services.close());
    }
  },
} satisfies ExportedHandler<ApiEnv, QueueMessage>;
