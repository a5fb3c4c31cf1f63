// GET /api/tracker/stats — the brand's tracker data per period, product, influencer, campaign and
// event type (counted and filtered events), from the 15-minute counters. Network admins only.

import { successBody, TrackerStatsQuery, TrackerStatsSchema } from "@afftrack/core";
import { trackerStats } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerTrackerStats(app: Hono<AppEnv>): void {
  app.get(
    "/api/tracker/stats",
    describe({
      tag: "Influencer tracker",
      summary: "Tracker stats",
      description:
        "`from` (inclusive) and `to` (exclusive) are dates or date-times; dates and local times are read " +
        "in `timezone` (IANA, default UTC). `interval` is `day` (at most 400 days) or `hour` (62 days). " +
        "Periods are 15-minute aligned, so zones with half-hour offsets are exact too.",
      auth: "jwt",
      response: TrackerStatsSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", TrackerStatsQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(successBody(await trackerStats(c.get("db")(), caller.tenant_id, c.req.valid("query"))));
    },
  );
}
