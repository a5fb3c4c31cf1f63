// /api/webhooks/{id} — read, change (URL, events, offer scope, enabled: true re-enables a disabled
// endpoint) and delete an endpoint the caller owns.

import { IdParamSchema, successBody, UpdateWebhookBody, WebhookEndpointSchema } from "@afftrack/core";
import {
  deleteEndpointOrThrow,
  getEndpointOrThrow,
  toWebhookEndpoint,
  updateEndpointOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { assertDestinationAllowed } from "../../../services/webhook-endpoints";

export function registerWebhook(app: Hono<AppEnv>): void {
  app.get(
    "/api/webhooks/:id",
    describe({
      tag: "Webhooks",
      summary: "Get a webhook endpoint",
      auth: "jwt",
      response: WebhookEndpointSchema,
      errors: ["UNAUTHORIZED", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    async (c) => {
      const row = await getEndpointOrThrow(c.get("db")(), callerOf(c), "webhook", c.req.valid("param").id);
      return c.json(successBody(toWebhookEndpoint(row)));
    },
  );

  app.patch(
    "/api/webhooks/:id",
    describe({
      tag: "Webhooks",
      summary: "Update a webhook endpoint",
      auth: "jwt",
      response: WebhookEndpointSchema,
      errors: ["UNAUTHORIZED", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    validate("json", UpdateWebhookBody),
    async (c) => {
      const input = c.req.valid("json");
      assertDestinationAllowed(c, input.url);
      const row = await updateEndpointOrThrow(
        c.get("db")(),
        callerOf(c),
        "webhook",
        c.req.valid("param").id,
        input,
      );
      return c.json(successBody(toWebhookEndpoint(row), "Webhook endpoint updated"));
    },
  );

  app.delete(
    "/api/webhooks/:id",
    describe({
      tag: "Webhooks",
      summary: "Delete a webhook endpoint",
      description: "Deliveries stop at once; pending retries are abandoned.",
      auth: "jwt",
      response: WebhookEndpointSchema,
      errors: ["UNAUTHORIZED", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    async (c) => {
      const row = await deleteEndpointOrThrow(c.get("db")(), callerOf(c), "webhook", c.req.valid("param").id);
      return c.json(successBody(toWebhookEndpoint(row), "Webhook endpoint deleted"));
    },
  );
}
