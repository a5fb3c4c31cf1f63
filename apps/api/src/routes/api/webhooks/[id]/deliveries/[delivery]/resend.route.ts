// POST /api/webhooks/{id}/deliveries/{delivery}/resend — one more attempt of a finished delivery,
// with the same webhook-id (receivers that already processed it can recognise it).

import { ApiError, DeliveryParamSchema, QueuedDeliveriesSchema, successBody } from "@afftrack/core";
import { type EndpointKind, getEndpointOrThrow, reopenDeliveryOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../../../context";
import { callerOf, requireAuth } from "../../../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../../../openapi/route";
import { enqueueAttempt } from "../../../../../../services/webhook-delivery";
import { deliveryDepsOf } from "../../../../../../services/webhook-endpoints";

/** Shared with /api/postback-urls/{id}/deliveries/{delivery}/resend. */
export function registerResendFor(app: Hono<AppEnv>, kind: EndpointKind, path: string, tag: string): void {
  app.post(
    path,
    describe({
      tag,
      summary: "Resend a delivery",
      description: "Queues one attempt now; a delivery still being retried is a CONFLICT.",
      auth: "jwt",
      response: QueuedDeliveriesSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth(),
    validate("param", DeliveryParamSchema),
    async (c) => {
      const db = c.get("db")();
      const { id, delivery } = c.req.valid("param");
      const endpoint = await getEndpointOrThrow(db, callerOf(c), kind, id);
      if (!endpoint.enabled) throw new ApiError("CONFLICT", "The endpoint is disabled; enable it first");
      const deps = deliveryDepsOf(c);
      const attempt = await reopenDeliveryOrThrow(db, endpoint.id, delivery);
      await enqueueAttempt(deps, { delivery_id: delivery, attempt, trigger: "resend" }, 0);
      return c.json(successBody({ queued: 1, delivery_ids: [delivery] }, "Delivery queued"));
    },
  );
}

export function registerWebhookResend(app: Hono<AppEnv>): void {
  registerResendFor(app, "webhook", "/api/webhooks/:id/deliveries/:delivery/resend", "Webhooks");
}
