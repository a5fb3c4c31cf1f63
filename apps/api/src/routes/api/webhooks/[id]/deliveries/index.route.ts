// GET /api/webhooks/{id}/deliveries — the endpoint's delivery log, newest first: each delivery
// (its webhook-id, event, status, next attempt) with every attempt as sent and as answered.

import {
  IdParamSchema,
  ListDeliveriesQuery,
  pageOf,
  successBody,
  WebhookDeliverySchema,
} from "@afftrack/core";
import { type EndpointKind, getEndpointOrThrow, listDeliveries } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../../context";
import { callerOf, requireAuth } from "../../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../../openapi/route";

/** Shared with /api/postback-urls/{id}/deliveries. */
export function registerDeliveriesFor(
  app: Hono<AppEnv>,
  kind: EndpointKind,
  path: string,
  tag: string,
): void {
  app.get(
    path,
    describe({
      tag,
      summary: "List deliveries",
      description:
        "Request headers and body, response status, the first 1 KB of the answer, latency and next attempt.",
      auth: "jwt",
      response: pageOf(WebhookDeliverySchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    validate("query", ListDeliveriesQuery),
    async (c) => {
      const db = c.get("db")();
      const endpoint = await getEndpointOrThrow(db, callerOf(c), kind, c.req.valid("param").id);
      return c.json(successBody(await listDeliveries(db, endpoint.id, c.req.valid("query"))));
    },
  );
}

export function registerWebhookDeliveries(app: Hono<AppEnv>): void {
  registerDeliveriesFor(app, "webhook", "/api/webhooks/:id/deliveries", "Webhooks");
}
