// GET /api/stats/fraud — fraud insights from the rollups: clicks by verdict over time, by
// publisher and by sub1, the top offending sources and the share of traffic filtered.

import { FraudInsightsSchema, StatsRangeQuery, successBody } from "@afftrack/core";
import { fraudInsights } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerStatsFraud(app: Hono<AppEnv>): void {
  app.get(
    "/api/stats/fraud",
    describe({
      tag: "Analytics",
      summary: "Fraud insights: verdicts over time, by publisher, by sub1, top sources",
      description:
        "Same range and filters as /api/stats. Bot clicks are always included here. `filtered_share` is the share of clicks not counted (any verdict but valid and legacy).",
      auth: "jwt",
      response: FraudInsightsSchema,
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", StatsRangeQuery),
    async (c) => {
      return c.json(successBody(await fraudInsights(c.get("db")(), callerOf(c), c.req.valid("query"))));
    },
  );
}
