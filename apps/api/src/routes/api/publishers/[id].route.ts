// /api/publishers/{id} — read (network admins, or a publisher user their own), update and delete
// (network admins). Suspending or reinstating rewrites the edge's link records at once.

import { IdParamSchema, PublisherSchema, successBody, UpdatePublisherBody } from "@afftrack/core";
import {
  deletePublisherOrThrow,
  getPublisherOrThrow,
  publisherNotFound,
  trackingCodesOfPublisher,
  updatePublisherOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { syncLinkRecords } from "../../../services/edge-sync";

export function registerPublisher(app: Hono<AppEnv>): void {
  app.get(
    "/api/publishers/:id",
    describe({
      tag: "Publishers",
      summary: "Get a publisher",
      auth: "jwt",
      response: PublisherSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "publisher"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const { id } = c.req.valid("param");
      if (caller.role === "publisher" && caller.publisher_id !== id) throw publisherNotFound();
      return c.json(successBody(await getPublisherOrThrow(c.get("db")(), caller.tenant_id, id)));
    },
  );

  app.patch(
    "/api/publishers/:id",
    describe({
      tag: "Publishers",
      summary: "Update a publisher",
      description: "Suspending a publisher stops their links counting at the edge at once.",
      auth: "jwt",
      response: PublisherSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    validate("json", UpdatePublisherBody),
    async (c) => {
      const caller = callerOf(c);
      const body = c.req.valid("json");
      const db = c.get("db")();
      const publisher = await updatePublisherOrThrow(db, caller.tenant_id, c.req.valid("param").id, body);
      if (body.status !== undefined) {
        // Suspending (or reinstating) a publisher changes whether their links count at the edge.
        await syncLinkRecords(
          db,
          c.get("redis"),
          await trackingCodesOfPublisher(db, publisher.id),
          c.get("log"),
        );
      }
      return c.json(successBody(publisher, "Publisher updated"));
    },
  );

  app.delete(
    "/api/publishers/:id",
    describe({
      tag: "Publishers",
      summary: "Delete a publisher",
      description: "Only a publisher without tracking links or users; suspend it otherwise (409).",
      auth: "jwt",
      response: v.object({ id: v.string(), deleted: v.literal(true) }),
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const { id } = c.req.valid("param");
      await deletePublisherOrThrow(c.get("db")(), caller.tenant_id, id);
      return c.json(successBody({ id, deleted: true as const }, "Publisher deleted"));
    },
  );
}
