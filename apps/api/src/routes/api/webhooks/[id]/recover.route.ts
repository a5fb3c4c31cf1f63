// POST /api/webhooks/{id}/recover — re-sends every delivery of the endpoint that failed since a
// time (after an outage on the receiver's side), each with its own webhook-id.

import { ApiError, IdParamSchema, QueuedDeliveriesSchema, RecoverBody, successBody } from "@afftrack/core";
import { type EndpointKind, getEndpointOrThrow, reopenFailedSince } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";
import { enqueueAttempts } from "../../../../services/webhook-delivery";
import { deliveryDepsOf } from "../../../../services/webhook-endpoints";

/** Shared with /api/postback-urls/{id}/recover. */
export function registerRecoverFor(app: Hono<AppEnv>, kind: EndpointKind, path: string, tag: string): void {
  app.post(
    path,
    describe({
      tag,
      summary: "Recover failed deliveries",
      description:
        "Queues one more attempt of each delivery that failed since `since` (at most 1000 per call).",
      auth: "jwt",
      response: QueuedDeliveriesSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    validate("json", RecoverBody),
    async (c) => {
      const db = c.get("db")();
      const endpoint = await getEndpointOrThrow(db, callerOf(c), kind, c.req.valid("param").id);
      if (!endpoint.enabled) throw new ApiError("CONFLICT", "The endpoint is disabled; enable it first");
      const deps = deliveryDepsOf(c);
      const reopened = await reopenFailedSince(db, endpoint.id, new Date(c.req.valid("json").since));
      // Up to 1,000 reopened: queued 100 to a sendBatch, not one send each.
      await enqueueAttempts(
        deps,
        reopened.map((d) => ({
          job: { delivery_id: d.id, attempt: d.attempt_count, trigger: "recover" as const },
          delayMs: 0,
        })),
      );
      const ids = reopened.map((d) => d.id);
      return c.json(
        successBody({ queued: ids.length, delivery_ids: ids }, `${ids.length} deliveries queued`),
      );
    },
  );
}

export function registerWebhookRecover(app: Hono<AppEnv>): void {
  registerRecoverFor(app, "webhook", "/api/webhooks/:id/recover", "Webhooks");
}
