// GET /api/applications — applications to private offers, newest first, keyset pages: a network
// admin sees the network's, an advertiser those to their offers, a publisher their own.

import { ApplicationSchema, ListApplicationsQuery, pageOf, successBody } from "@afftrack/core";
import { listApplications } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerApplications(app: Hono<AppEnv>): void {
  app.get(
    "/api/applications",
    describe({
      tag: "Offers",
      summary: "List offer applications",
      description: "Filters `status` (pending, approved, rejected) and `offer_id`.",
      auth: "jwt",
      response: pageOf(ApplicationSchema),
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", ListApplicationsQuery),
    async (c) => {
      return c.json(successBody(await listApplications(c.get("db")(), callerOf(c), c.req.valid("query"))));
    },
  );
}
