// GET /api/exports/conversions.csv — the caller's conversions of a date range as CSV, streamed page by page.

import { ExportQuery } from "@afftrack/core";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { csvStream } from "../../../services/csv-export";

export function registerExportConversionsCsv(app: Hono<AppEnv>): void {
  app.get(
    "/api/exports/conversions.csv",
    describe({
      tag: "Analytics",
      summary: "Export conversions of a range as CSV",
      description:
        "`from` (inclusive) and `to` (exclusive) ISO datetimes; optional `offer_id`, `publisher_id`. Oldest first, streamed.",
      auth: "jwt",
      response: v.string(),
      contentType: "text/csv",
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", ExportQuery),
    (c) => {
      const body = csvStream(c.get("db")(), callerOf(c), "conversions", c.req.valid("query"));
      return new Response(body, {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": 'attachment; filename="conversions.csv"',
          "cache-control": "no-store",
        },
      });
    },
  );
}
