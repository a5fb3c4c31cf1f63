// /api/webhooks — an advertiser (their conversions) or a publisher (theirs) registers endpoints
// for signed JSON events; network admins name the owner. The whsec_ secret is shown once.

import {
  CreatedWebhookSchema,
  CreateWebhookBody,
  UpdateWebhookBody,
  WebhookEndpointSchema,
} from "@afftrack/core";
import { toWebhookEndpoint } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { type EndpointRoutes, registerEndpointCollection } from "../endpoint-routes";

export const WEBHOOK_ROUTES: EndpointRoutes = {
  kind: "webhook",
  path: "/api/webhooks",
  tag: "Webhooks",
  noun: "webhook endpoint",
  roles: [],
  item: WebhookEndpointSchema,
  created: CreatedWebhookSchema,
  createBody: CreateWebhookBody,
  updateBody: UpdateWebhookBody,
  toWire: toWebhookEndpoint,
  describe: {
    create:
      "Events are POSTed as the seed's body (`event`, `timestamp`, `data`, `signature`) with Standard " +
      "Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The `secret` is in " +
      "this answer only. Private, loopback, link-local, CGNAT and metadata destinations are refused.",
    list: "With their state: `enabled`, `disabled_reason` and `failing_since`.",
    remove: "Deliveries stop at once; pending retries are abandoned.",
  },
};

export function registerWebhooks(app: Hono<AppEnv>): void {
  registerEndpointCollection(app, WEBHOOK_ROUTES);
}
