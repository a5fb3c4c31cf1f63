// /api/tracker/products/{id} — read or update a product (the postback path sees a change within a second).

import { IdParamSchema, successBody, TrackerProductSchema, UpdateTrackerProductBody } from "@afftrack/core";
import { getTrackerProductOrThrow, updateTrackerProductOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerTrackerProduct(app: Hono<AppEnv>): void {
  app.get(
    "/api/tracker/products/:id",
    describe({
      tag: "Influencer tracker",
      summary: "Get a product",
      auth: "jwt",
      response: TrackerProductSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      return c.json(
        successBody(await getTrackerProductOrThrow(c.get("db")(), caller.tenant_id, c.req.valid("param").id)),
      );
    },
  );

  app.patch(
    "/api/tracker/products/:id",
    describe({
      tag: "Influencer tracker",
      summary: "Update a product",
      auth: "jwt",
      response: TrackerProductSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    validate("json", UpdateTrackerProductBody),
    async (c) => {
      const caller = callerOf(c);
      const product = await updateTrackerProductOrThrow(
        c.get("db")(),
        caller.tenant_id,
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json(successBody(product, "Product updated"));
    },
  );
}
