// GET /api/stats — counters from the rollups, grouped and filtered, in any IANA time zone, scoped
// by role: a network admin sees the network, an advertiser their offers, a publisher their own
// traffic and payouts (never revenue).

import { StatsQuery, StatsSchema, successBody } from "@afftrack/core";
import { queryStats } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerStats(app: Hono<AppEnv>): void {
  app.get(
    "/api/stats",
    describe({
      tag: "Analytics",
      summary: "Clicks, conversions, revenue and payout, grouped",
      description:
        "Range: `from`/`to` (local dates, or ISO datetimes) or `interval`; `timezone` defaults to the network's. " +
        "Rows are one per group of `group_by`, keyed by the group names; `totals` covers the whole range. " +
        "Unique clicks are first clicks of a visitor on a link in a UTC day. Bot clicks are left out unless `include_bots=true`.",
      auth: "jwt",
      response: StatsSchema,
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", StatsQuery),
    async (c) => {
      return c.json(successBody(await queryStats(c.get("db")(), callerOf(c), c.req.valid("query"))));
    },
  );
}
