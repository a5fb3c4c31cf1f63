// /api/tracker/customers — the network's tracker customers (brands): each has the public
// customer_code of its widget URLs and hosts. Network admins only.

import {
  CreateTrackerCustomerBody,
  ListTrackerQuery,
  pageOf,
  successBody,
  TrackerCustomerSchema,
} from "@afftrack/core";
import { createTrackerCustomer, listTrackerCustomers } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerTrackerCustomers(app: Hono<AppEnv>): void {
  app.post(
    "/api/tracker/customers",
    describe({
      tag: "Influencer tracker",
      summary: "Create a tracker customer",
      description: "`customer_code` is unique across the platform: it names the brand in widget URLs.",
      auth: "jwt",
      status: 201,
      response: TrackerCustomerSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("json", CreateTrackerCustomerBody),
    async (c) => {
      const caller = callerOf(c);
      const customer = await createTrackerCustomer(c.get("db")(), caller.tenant_id, c.req.valid("json"));
      return c.json(successBody(customer, "Customer created"), 201);
    },
  );

  app.get(
    "/api/tracker/customers",
    describe({
      tag: "Influencer tracker",
      summary: "List tracker customers",
      auth: "jwt",
      response: pageOf(TrackerCustomerSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListTrackerQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(
        successBody(await listTrackerCustomers(c.get("db")(), caller.tenant_id, c.req.valid("query"))),
      );
    },
  );
}
