// POST /api/webhooks/{id}/test — queues a `test` event to the endpoint (whatever its events), so
// its owner can check their verification; the attempt appears in the delivery log.

import { ApiError, IdParamSchema, successBody, TestEventSchema } from "@afftrack/core";
import { getEndpointOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";
import { createSingleDelivery } from "../../../../services/webhook-delivery";
import { deliveryDepsOf } from "../../../../services/webhook-endpoints";

export function registerWebhookTest(app: Hono<AppEnv>): void {
  app.post(
    "/api/webhooks/:id/test",
    describe({
      tag: "Webhooks",
      summary: "Send a test event",
      auth: "jwt",
      status: 201,
      response: TestEventSchema,
      errors: ["UNAUTHORIZED", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    async (c) => {
      const endpoint = await getEndpointOrThrow(
        c.get("db")(),
        callerOf(c),
        "webhook",
        c.req.valid("param").id,
      );
      if (!endpoint.enabled) throw new ApiError("CONFLICT", "The endpoint is disabled; enable it first");
      const sent = await createSingleDelivery(deliveryDepsOf(c), endpoint, {
        type: "test",
        data: {
          conversion_id: "conv_test",
          offer_id: endpoint.offer_id ?? "offer_test",
          transaction_id: "txn_test",
          amount: 29.99,
          currency: "USD",
          status: "approved",
        },
      });
      return c.json(successBody(sent, "Test event queued"), 201);
    },
  );
}
