// /api/webhooks/{id} — read, change (URL, events, offer scope, enabled: true re-enables a disabled
// endpoint) and delete an endpoint the caller owns.

import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { registerEndpointItem } from "../endpoint-routes";
import { WEBHOOK_ROUTES } from "./index.route";

export function registerWebhook(app: Hono<AppEnv>): void {
  registerEndpointItem(app, WEBHOOK_ROUTES);
}
