// /api/publishers — network admins create publishers (affiliates and influencers) and list those
// of their network.

import {
  CreatePublisherBody,
  ListPublishersQuery,
  PublisherSchema,
  pageOf,
  successBody,
} from "@afftrack/core";
import { createPublisher, listPublishers } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerPublishers(app: Hono<AppEnv>): void {
  app.post(
    "/api/publishers",
    describe({
      tag: "Publishers",
      summary: "Create a publisher",
      auth: "jwt",
      status: 201,
      response: PublisherSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("json", CreatePublisherBody),
    async (c) => {
      const caller = callerOf(c);
      const publisher = await createPublisher(c.get("db")(), caller.tenant_id, c.req.valid("json"));
      return c.json(successBody(publisher, "Publisher created"), 201);
    },
  );

  app.get(
    "/api/publishers",
    describe({
      tag: "Publishers",
      summary: "List the network's publishers",
      auth: "jwt",
      response: pageOf(PublisherSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListPublishersQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(successBody(await listPublishers(c.get("db")(), caller.tenant_id, c.req.valid("query"))));
    },
  );
}
