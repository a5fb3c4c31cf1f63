// The API worker's entry: the HTTP app, the queue consumer and the edge's RPC entrypoint.

import type { ClickBatchMessage, ClickEvent } from "@afftrack/core";
import { app } from "./app";
import type { ApiEnv } from "./config";
import { consumeClicks } from "./consumers/clicks.consumer";
import { createServices } from "./services/factory";

export { EdgeService } from "./edge-service";

export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<ClickEvent | ClickBatchMessage>, env: ApiEnv, ctx: ExecutionContext) {
    const services = createServices(env, { log: { queue: batch.queue, messages: batch.messages.length } });
    try {
      if (batch.queue.startsWith("clicks")) await consumeClicks(batch, services);
      else services.log.error("message for unknown queue", undefined, { queue: batch.queue });
    } finally {
      ctx.waitUntil(services.close());
    }
  },
} satisfies ExportedHandler<ApiEnv, ClickEvent | ClickBatchMessage>;
