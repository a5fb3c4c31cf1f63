// GET /api/events — raw clicks or conversions, newest first, keyset pages; scoped by role (a
// publisher sees their own rows and never the advertiser's amount).

import { EventSchema, EventsQuery, pageOf, successBody } from "@afftrack/core";
import { listEvents } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerEvents(app: Hono<AppEnv>): void {
  app.get(
    "/api/events",
    describe({
      tag: "Analytics",
      summary: "List raw clicks or conversions",
      description:
        "`type` is clicks (default) or conversions; filters `offer_id`, `publisher_id`, `verdict` (clicks), `status` (conversions), `from`/`to`.",
      auth: "jwt",
      response: pageOf(EventSchema),
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", EventsQuery),
    async (c) => {
      return c.json(successBody(await listEvents(c.get("db")(), callerOf(c), c.req.valid("query"))));
    },
  );
}
