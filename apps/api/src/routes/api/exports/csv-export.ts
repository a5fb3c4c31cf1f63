// The two CSV exports (GET /api/exports/clicks.csv and /conversions.csv): the same declaration,
// streamed page by page, for either kind of row.

import { ExportQuery } from "@afftrack/core";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { csvStream } from "../../../services/csv-export";

export function registerCsvExport(app: Hono<AppEnv>, kind: "clicks" | "conversions"): void {
  app.get(
    `/api/exports/${kind}.csv`,
    describe({
      tag: "Analytics",
      summary: `Export ${kind} of a range as CSV`,
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
      const body = csvStream(c.get("db")(), callerOf(c), kind, c.req.valid("query"));
      return new Response(body, {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${kind}.csv"`,
          "cache-control": "no-store",
        },
      });
    },
  );
}
