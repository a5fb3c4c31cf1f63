// GET /api/fraud-events — the raw fraud events (one per fraud-verdict click), newest first.

import { FraudEventSchema, FraudEventsQuery, pageOf, successBody } from "@afftrack/core";
import { listFraudEvents } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerFraudEvents(app: Hono<AppEnv>): void {
  app.get(
    "/api/fraud-events",
    describe({
      tag: "Analytics",
      summary: "List fraud events",
      description:
        "Filters: `kind` (the verdict), `offer_id`, `publisher_id`, `from`/`to`. Scoped like the stats.",
      auth: "jwt",
      response: pageOf(FraudEventSchema),
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", FraudEventsQuery),
    async (c) => {
      return c.json(successBody(await listFraudEvents(c.get("db")(), callerOf(c), c.req.valid("query"))));
    },
  );
}
