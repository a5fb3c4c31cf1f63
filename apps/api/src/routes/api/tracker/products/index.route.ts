// /api/tracker/products — a customer's products (widget codes): name, goal, display style,
// anti-cheat and the event types they count. Network admins only.

import {
  CreateTrackerProductBody,
  ListTrackerQuery,
  pageOf,
  successBody,
  TrackerProductSchema,
} from "@afftrack/core";
import { createTrackerProduct, listTrackerProducts } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerTrackerProducts(app: Hono<AppEnv>): void {
  app.post(
    "/api/tracker/products",
    describe({
      tag: "Influencer tracker",
      summary: "Create a product (widget)",
      description: "`code` is the seed's `product`, unique per customer.",
      auth: "jwt",
      status: 201,
      response: TrackerProductSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("json", CreateTrackerProductBody),
    async (c) => {
      const caller = callerOf(c);
      const product = await createTrackerProduct(c.get("db")(), caller.tenant_id, c.req.valid("json"));
      return c.json(successBody(product, "Product created"), 201);
    },
  );

  app.get(
    "/api/tracker/products",
    describe({
      tag: "Influencer tracker",
      summary: "List products",
      auth: "jwt",
      response: pageOf(TrackerProductSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListTrackerQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(
        successBody(await listTrackerProducts(c.get("db")(), caller.tenant_id, c.req.valid("query"))),
      );
    },
  );
}
