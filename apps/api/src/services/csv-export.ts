// Streamed CSV exports: a ReadableStream that reads one keyset page per pull, so memory holds one
// page (EXPORT_PAGE rows) whatever the range. Cells are quoted as RFC 4180 asks, and a cell a
// spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with an apostrophe.

import type { ExportInput } from "@afftrack/core";
import type { CallerScope, Database } from "@afftrack/db";
import { exportColumns, exportPage } from "@afftrack/db";
import type { Kysely } from "kysely";

export const EXPORT_PAGE = 2000;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s =
    value instanceof Date
      ? value.toISOString()
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvStream(
  db: Kysely<Database>,
  caller: CallerScope,
  type: "clicks" | "conversions",
  q: ExportInput,
): ReadableStream<Uint8Array> {
  const columns = exportColumns(caller, type);
  const encoder = new TextEncoder();
  let after: { t: string; id: string } | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`${columns.join(",")}\r\n`));
        return;
      }
      const page = await exportPage(db, caller, type, q, after, EXPORT_PAGE);
      if (page.rows.length > 0) {
        const text = page.rows.map((row) => `${columns.map((c) => csvCell(row[c])).join(",")}\r\n`).join("");
        controller.enqueue(encoder.encode(text));
      }
      if (page.rows.length < EXPORT_PAGE || !page.last) controller.close();
      else after = page.last;
    },
  });
}
