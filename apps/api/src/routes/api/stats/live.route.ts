// GET /api/stats/live — per-minute counts of the last 60 minutes, scoped like /api/stats.

import { LiveStatsSchema, successBody } from "@afftrack/core";
import { liveStats } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe } from "../../../openapi/route";

export function registerStatsLive(app: Hono<AppEnv>): void {
  app.get(
    "/api/stats/live",
    describe({
      tag: "Analytics",
      summary: "Per-minute counts of the last 60 minutes",
      description: "Sixty UTC minutes, oldest first, including minutes without traffic (zeros).",
      auth: "jwt",
      response: LiveStatsSchema,
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    async (c) => {
      return c.json(successBody(await liveStats(c.get("db")(), callerOf(c))));
    },
  );
}
