// Keyset pagination for every list of the management API: newest first, keyed on
// (created_at, id). The cursor carries the timestamp as Postgres text so microseconds survive the
// round trip (a JS Date would truncate them and skip rows).

import { ApiError, base64UrlDecode, base64UrlEncode, utf8 } from "@afftrack/core";
import { type SelectQueryBuilder, sql } from "kysely";

export interface Cursor {
  t: string;
  id: string;
}

/** A list request: at most `limit` items after `cursor` (the previous page's `next_cursor`). */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/;
/** Ids are the API's own (`IdSchema`): anything else, NUL included, never reaches Postgres. */
const CURSOR_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A timestamp Postgres accepts: a real calendar day (not Feb 30), year 1+, offset within ±15:59. */
function isPostgresTimestamp(t: string): boolean {
  const m = TIMESTAMP.exec(t);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const offsetHours = Number(m[8] ?? 0);
  const offsetMinutes = Number(m[9] ?? 0);
  if (!year || !month || !day || month > 12 || hour! > 23 || minute! > 59 || second! > 59) return false;
  if (offsetHours > 15 || offsetMinutes > 59) return false;
  const probe = new Date(Date.UTC(2000, month - 1, day));
  probe.setUTCFullYear(year);
  return probe.getUTCDate() === day && probe.getUTCMonth() === month - 1;
}

export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (!cursor) return null;
  try {
    const bytes = base64UrlDecode(cursor);
    const json = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
    if (Array.isArray(json) && typeof json[0] === "string" && typeof json[1] === "string") {
      // A full timestamp as Postgres prints it, in a year Postgres accepts (Date.parse also
      // takes "1" or year 0000, which Postgres then refuses).
      if (isPostgresTimestamp(json[0]) && CURSOR_ID.test(json[1])) {
        return { t: json[0], id: json[1] };
      }
    }
  } catch {
    // fall through
  }
  throw new ApiError("INVALID_PARAMS", 'Invalid parameter "cursor": not a cursor this API issued');
}

function encodeCursor(t: string, id: string): string {
  return base64UrlEncode(utf8(JSON.stringify([t, id])));
}

/**
 * Runs a list query one page at a time: adds the keyset condition, the order and the limit to
 * `query` (whose rows carry `{alias}.created_at` and `{alias}.id`), and maps the rows.
 *
 * @example
 * return paginate(db.selectFrom("offers as o").select(columns).where(...), "o", page, toOffer);
 */
export async function paginate<DB, TB extends keyof DB, O extends { id: string }, R>(
  query: SelectQueryBuilder<DB, TB, O>,
  alias: string,
  request: PageRequest,
  serialize: (row: O) => R,
): Promise<Page<R>> {
  const cursor = decodeCursor(request.cursor);
  const created = sql.ref(`${alias}.created_at`);
  const id = sql.ref(`${alias}.id`);
  const rows = (await query
    .select(sql<string>`${created}::text`.as("cursor_ts"))
    .$if(cursor !== null, (qb) =>
      qb.where(sql<boolean>`(${created}, ${id}) < (${cursor?.t}::timestamptz, ${cursor?.id})`),
    )
    .orderBy(created, "desc")
    .orderBy(id, "desc")
    .limit(request.limit + 1)
    .execute()) as unknown as (O & { cursor_ts: string })[];
  const more = rows.length > request.limit;
  const shown = more ? rows.slice(0, request.limit) : rows;
  const last = shown[shown.length - 1];
  return {
    items: shown.map(serialize),
    next_cursor: more && last ? encodeCursor(last.cursor_ts, last.id) : null,
  };
}

/** Escapes `%`, `_` and `\` for a LIKE pattern built from user text. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

function pgCode(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return pgCode(err) === "23505";
}

export function isForeignKeyViolation(err: unknown): boolean {
  return pgCode(err) === "23503";
}
