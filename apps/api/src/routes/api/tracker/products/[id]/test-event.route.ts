// POST /api/tracker/products/{id}/test-event — animates the influencer's widgets (a "Test" alert
// with the current total) without storing or counting anything.

import { IdParamSchema, successBody, TrackerTestEventBody, TrackerTestEventDataSchema } from "@afftrack/core";
import { getTrackerProductOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../../context";
import { callerOf, requireAuth } from "../../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../../openapi/route";
import { notifyWidgets } from "../../../../../services/tracker";

export function registerTrackerTestEvent(app: Hono<AppEnv>): void {
  app.post(
    "/api/tracker/products/:id/test-event",
    describe({
      tag: "Influencer tracker",
      summary: "Send a test event to an influencer's widgets",
      description: "Nothing is stored or counted; `delivered` is the number of widgets connected.",
      auth: "jwt",
      response: TrackerTestEventDataSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    validate("json", TrackerTestEventBody),
    async (c) => {
      const caller = callerOf(c);
      const product = await getTrackerProductOrThrow(
        c.get("db")(),
        caller.tenant_id,
        c.req.valid("param").id,
      );
      const body = c.req.valid("json");
      const services = c.get("services");
      const delivered = await notifyWidgets(
        c.env,
        services,
        {
          tenant_id: caller.tenant_id,
          customer_code: product.customer_code,
          product_id: product.id,
          product: product.code,
          influencer_id: body.influencer_id,
        },
        {
          event_type: body.event_type ?? null,
          event_name: body.event_name ?? null,
          campaign: body.campaign ?? null,
          test: true,
          at: services.now(),
        },
      );
      return c.json(successBody({ delivered }, "Test event sent"));
    },
  );
}
