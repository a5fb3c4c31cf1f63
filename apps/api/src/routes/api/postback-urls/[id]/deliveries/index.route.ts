// GET /api/postback-urls/{id}/deliveries — the postback URL's delivery log (same as webhooks').

import type { Hono } from "hono";
import type { AppEnv } from "../../../../../context";
import { registerDeliveriesFor } from "../../../webhooks/[id]/deliveries/index.route";

export function registerPostbackUrlDeliveries(app: Hono<AppEnv>): void {
  registerDeliveriesFor(app, "postback", "/api/postback-urls/:id/deliveries", "Postback URLs");
}
