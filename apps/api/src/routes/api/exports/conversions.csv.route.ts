// GET /api/exports/conversions.csv — the caller's conversions of a date range as CSV, streamed page by page.

import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { registerCsvExport } from "./csv-export";

export function registerExportConversionsCsv(app: Hono<AppEnv>): void {
  registerCsvExport(app, "conversions");
}
