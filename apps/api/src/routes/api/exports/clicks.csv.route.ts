// GET /api/exports/clicks.csv — the caller's clicks of a date range as CSV, streamed page by page.

import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { registerCsvExport } from "./csv-export";

export function registerExportClicksCsv(app: Hono<AppEnv>): void {
  registerCsvExport(app, "clicks");
}
