// The API worker: wires routes, the queue consumer and the edge's RPC entrypoint. Each feature
// registers its routes from its own folder; this file only connects them.

import { ApiError, errorBody } from "@afftrack/core";
import { Hono } from "hono";
import { consumeClicks } from "./consumers/clicks.consumer";
import { type AppEnv, initServices } from "./context";
import { type ApiEnv, assertApiEnv } from "./env";
import { registerIngestion } from "./routes/ingest/index";
import { registerManagementRoutes } from "./routes/management/index";

export { EdgeService } from "./edge-service";

const app = new Hono<AppEnv>();

app.use(initServices());
app.get("/healthz", (c) => c.json({ ok: true }));
// feature routes are registered below this line
registerManagementRoutes(app);
registerIngestion(app);
app.notFound((c) => c.json(errorBody("NOT_FOUND", "No such endpoint"), 404));
app.onError((err, c) => {
  if (err instanceof ApiError) return c.json(err.toBody(), err.status as 400);
  console.error(JSON.stringify({ msg: "unhandled api error", error: String(err) }));
  return c.json(errorBody("INTERNAL_ERROR", "Internal error"), 500);
});

export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<unknown>, env: ApiEnv, ctx: ExecutionContext) {
    assertApiEnv(env);
    if (batch.queue.startsWith("clicks")) await consumeClicks(batch, env, ctx);
    else console.error(JSON.stringify({ msg: "message for unknown queue", queue: batch.queue }));
  },
} satisfies ExportedHandler<ApiEnv>;
