// /api/webhooks — an advertiser (their conversions) or a publisher (theirs) registers endpoints
// for signed JSON events; network admins name the owner. The whsec_ secret is shown once.

import {
  CreatedWebhookSchema,
  CreateWebhookBody,
  ListEndpointsQuery,
  pageOf,
  successBody,
  WebhookEndpointSchema,
} from "@afftrack/core";
import { createEndpoint, listEndpoints, toWebhookEndpoint } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { assertDestinationAllowed, keyringOf } from "../../../services/webhook-endpoints";

export function registerWebhooks(app: Hono<AppEnv>): void {
  app.post(
    "/api/webhooks",
    describe({
      tag: "Webhooks",
      summary: "Register a webhook endpoint",
      description:
        "Events are POSTed as the seed's body (`event`, `timestamp`, `data`, `signature`) with Standard " +
        "Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The `secret` is in " +
        "this answer only. Private, loopback, link-local, CGNAT and metadata destinations are refused.",
      auth: "jwt",
      status: 201,
      response: CreatedWebhookSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("json", CreateWebhookBody),
    async (c) => {
      const input = c.req.valid("json");
      assertDestinationAllowed(c, input.url);
      const { row, secret } = await createEndpoint(
        c.get("db")(),
        callerOf(c),
        "webhook",
        input,
        await keyringOf(c),
      );
      return c.json(
        successBody({ ...toWebhookEndpoint(row), secret }, "Webhook endpoint created; store the secret now"),
        201,
      );
    },
  );

  app.get(
    "/api/webhooks",
    describe({
      tag: "Webhooks",
      summary: "List webhook endpoints",
      description: "With their state: `enabled`, `disabled_reason` and `failing_since`.",
      auth: "jwt",
      response: pageOf(WebhookEndpointSchema),
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", ListEndpointsQuery),
    async (c) => {
      const page = await listEndpoints(c.get("db")(), callerOf(c), "webhook", c.req.valid("query"));
      return c.json(successBody({ ...page, items: page.items.map(toWebhookEndpoint) }));
    },
  );
}
