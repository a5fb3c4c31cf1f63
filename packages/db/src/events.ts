// Raw clicks and conversions for GET /api/events (newest first, keyset pages) and the CSV exports
// (oldest first, read page by page so an export of millions of rows never sits in memory). Scoped
// like every read: the tenant, an advertiser's offers, a publisher's own rows (no revenue).

import type { EventsInput, ExportInput } from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import { type Page, paginate } from "./pagination";
import type { Database } from "./schema";
import type { CallerScope } from "./scope";

export const CLICK_EXPORT_COLUMNS = [
  "click_id",
  "created_at",
  "verdict",
  "source",
  "offer_id",
  "publisher_id",
  "tracking_code",
  "country",
  "device",
  "os",
  "browser",
  "sub1",
  "sub2",
  "sub3",
  "sub4",
  "sub5",
  "unverified",
] as const;

const CONVERSION_COLUMNS = [
  "id",
  "created_at",
  "updated_at",
  "transaction_id",
  "event_type",
  "status",
  "attribution",
  "offer_id",
  "publisher_id",
  "click_id",
  "amount",
  "currency",
  "payout",
  "payout_currency",
  "source",
] as const;

/** The conversion columns a caller may see: a publisher never sees the advertiser's amount. */
export function conversionColumnsFor(caller: CallerScope): string[] {
  return CONVERSION_COLUMNS.filter(
    (c) => caller.role !== "publisher" || (c !== "amount" && c !== "currency"),
  );
}

type Row = Record<string, unknown> & { id: string };

/** A derived table of the caller's clicks or conversions with an `id` and `created_at`, filtered. */
function scoped(
  caller: CallerScope,
  type: "clicks" | "conversions",
  f: {
    offer_id?: string | undefined;
    publisher_id?: string | undefined;
    verdict?: string | undefined;
    status?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
  },
) {
  const cols = type === "clicks" ? [...CLICK_EXPORT_COLUMNS] : conversionColumnsFor(caller);
  const idCol = type === "clicks" ? "click_id" : "id";
  const filters = [sql`x.tenant_id = ${caller.tenant_id}`];
  if (caller.role === "publisher") filters.push(sql`x.publisher_id = ${caller.publisher_id ?? "-"}`);
  if (caller.role === "advertiser") filters.push(sql`x.advertiser_id = ${caller.advertiser_id ?? "-"}`);
  if (f.offer_id) filters.push(sql`x.offer_id = ${f.offer_id}`);
  if (f.publisher_id) filters.push(sql`x.publisher_id = ${f.publisher_id}`);
  if (f.verdict && type === "clicks") filters.push(sql`x.verdict = ${f.verdict}`);
  if (f.status && type === "conversions") filters.push(sql`x.status = ${f.status}`);
  if (f.from) filters.push(sql`x.created_at >= ${f.from}::timestamptz`);
  if (f.to) filters.push(sql`x.created_at < ${f.to}::timestamptz`);
  const select = cols.filter((c) => c !== "id").map((c) => sql.ref(`x.${c}`));
  return sql<Row>`(SELECT ${sql.ref(`x.${idCol}`)} AS id, ${sql.join(select)} FROM ${sql.table(type)} x
    WHERE ${sql.join(filters, sql` AND `)})`;
}

function serialize(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === "cursor_ts") continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

export async function listEvents(
  db: Kysely<Database>,
  caller: CallerScope,
  q: EventsInput,
): Promise<Page<Record<string, unknown>>> {
  const table = scoped(caller, q.type, q);
  const query = db.selectFrom(table.as("e") as never).selectAll() as never;
  return paginate(query, "e", q, (row: Row) => {
    const out = serialize(row);
    if (q.type === "clicks") {
      out.click_id = out.id;
      delete out.id;
    }
    return out;
  });
}

/**
 * One page of an export, oldest first, after the previous page's last (created_at, id). The
 * cursor keeps Postgres's text of the timestamp, so microseconds survive.
 */
export async function exportPage(
  db: Kysely<Database>,
  caller: CallerScope,
  type: "clicks" | "conversions",
  q: ExportInput,
  after: { t: string; id: string } | null,
  limit: number,
): Promise<{ rows: Record<string, unknown>[]; last: { t: string; id: string } | null }> {
  const table = scoped(caller, type, q);
  const result = await sql<Row & { cursor_ts: string }>`
    SELECT e.*, e.created_at::text AS cursor_ts FROM ${table} e
    ${after ? sql`WHERE (e.created_at, e.id) > (${after.t}::timestamptz, ${after.id})` : sql``}
    ORDER BY e.created_at, e.id LIMIT ${limit}`.execute(db);
  const last = result.rows[result.rows.length - 1];
  return {
    rows: result.rows.map((r) => {
      const out = serialize(r);
      if (type === "clicks") {
        out.click_id = out.id;
        delete out.id;
      }
      return out;
    }),
    last: last ? { t: last.cursor_ts, id: last.id } : null,
  };
}

/** The CSV header of an export for this caller. */
export function exportColumns(caller: CallerScope, type: "clicks" | "conversions"): string[] {
  return type === "clicks" ? [...CLICK_EXPORT_COLUMNS] : conversionColumnsFor(caller);
}
