// Shared pieces of the management routes: strict input parsing (unknown fields refused), cursor
// pagination, the caller's advertiser scope, and the public URLs of tracking links.

import { ApiError, hasUnstorableText } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import { type Kysely, sql } from "kysely";
import * as v from "valibot";
import type { AppContext } from "../../context";
import type { Caller } from "../../middleware/jwt-auth";

const MAX_BODY_BYTES = 64 * 1024;

function issueMessage(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): string {
  const issue = issues[0];
  const path = v.getDotPath(issue);
  if (issue.kind === "schema" && issue.type === "strict_object" && path) {
    return `Unknown field: ${path}`;
  }
  return path ? `Invalid ${path}: ${issue.message}` : issue.message;
}

export function parseWith<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new ApiError("INVALID_PARAMS", issueMessage(result.issues));
  return result.output;
}

/** The JSON body validated by a strict schema; a non-JSON or oversized body is INVALID_PARAMS. */
export async function readBody<S extends v.GenericSchema>(
  c: AppContext,
  schema: S,
): Promise<v.InferOutput<S>> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE", "Request body too large");
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError("INVALID_PARAMS", "Request body must be JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ApiError("INVALID_PARAMS", "Request body must be a JSON object");
  }
  if (hasUnstorableText(json)) {
    throw new ApiError("INVALID_PARAMS", "Request body contains NUL or unpaired surrogate characters");
  }
  return parseWith(schema, json);
}

export function readQuery<S extends v.GenericSchema>(c: AppContext, schema: S): v.InferOutput<S> {
  return parseWith(schema, c.req.query());
}

// ---------------------------------------------------------------------------------------------
// Field schemas

export const idSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an id"));
export const nameSchema = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(200));
export const emailSchema = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.maxLength(254),
  v.email("must be an email address"),
);
export const passwordSchema = v.pipe(
  v.string(),
  v.minLength(8, "must be at least 8 characters"),
  v.maxLength(256, "must be at most 256 characters"),
);

/** A list query: `limit` 1..100 (default 50) and an opaque `cursor`, plus each route's filters. */
export const pageEntries = {
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, "must be an integer"),
      v.transform(Number),
      v.minValue(1),
      v.maxValue(100),
    ),
    "50",
  ),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200))),
};

export const searchSchema = v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)));

// ---------------------------------------------------------------------------------------------
// Cursor pagination: newest first, keyed on (created_at, id). The timestamp travels as Postgres
// text so microseconds survive the round trip (a JS Date would truncate them and skip rows).

interface Cursor {
  t: string;
  id: string;
}

export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (!cursor) return null;
  try {
    const json = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (
      Array.isArray(json) &&
      typeof json[0] === "string" &&
      typeof json[1] === "string" &&
      // A full timestamp as Postgres prints it (or ISO 8601): Date.parse also takes "1", which
      // Postgres then refuses as a timestamptz.
      /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/.test(json[0]) &&
      !Number.isNaN(Date.parse(json[0]))
    ) {
      return { t: json[0], id: json[1] };
    }
  } catch {
    // fall through
  }
  throw new ApiError("INVALID_PARAMS", "Invalid cursor");
}

function encodeCursor(t: string, id: string): string {
  return btoa(JSON.stringify([t, id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** `sql` fragments for a keyset page over a table alias with created_at and id columns. */
export function cursorSql(alias: string, cursor: Cursor | null) {
  const created = sql.ref(`${alias}.created_at`);
  const id = sql.ref(`${alias}.id`);
  return {
    where: cursor
      ? sql<boolean>`(${created}, ${id}) < (${cursor.t}::timestamptz, ${cursor.id})`
      : sql<boolean>`true`,
    cursorText: sql<string>`${created}::text`.as("cursor_ts"),
  };
}

export function page<T extends { id: string; cursor_ts: string }, R>(
  rows: T[],
  limit: number,
  serialize: (row: T) => R,
): { items: R[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return {
    items: shown.map(serialize),
    next_cursor: more && last ? encodeCursor(last.cursor_ts, last.id) : null,
  };
}

export function notFound(what: string): ApiError {
  return new ApiError("NOT_FOUND", `${what} not found`);
}

// ---------------------------------------------------------------------------------------------
// Scope

/**
 * The advertiser an advertiser-side action applies to: an advertiser user's own (asking for
 * another one is "not found"), or, for a network admin, the one named, which must be in their
 * network. Publishers are refused before anything is looked up.
 */
export async function advertiserScope(
  db: Kysely<Database>,
  caller: Caller,
  requested: string | undefined,
): Promise<string> {
  if (caller.role === "publisher") throw new ApiError("FORBIDDEN", "Your role may not do this");
  if (caller.role === "advertiser") {
    if (requested !== undefined && requested !== caller.advertiser_id) throw notFound("Advertiser");
    return caller.advertiser_id as string;
  }
  if (requested === undefined)
    throw new ApiError("INVALID_PARAMS", "Invalid advertiser_id: required for a network admin");
  const row = await db
    .selectFrom("advertisers")
    .select("id")
    .where("id", "=", requested)
    .where("tenant_id", "=", caller.tenant_id)
    .executeTakeFirst();
  if (!row) throw notFound("Advertiser");
  return row.id;
}

// ---------------------------------------------------------------------------------------------
// Public URLs

function base(url: string | undefined, fallback: string): string {
  return (url || fallback).replace(/\/+$/, "");
}

export function trackingBase(c: AppContext): string {
  return base(c.env.TRACKING_BASE_URL, "https://track.example.com");
}

export function shortLinkBase(c: AppContext): string {
  return base(c.env.SHORT_LINK_BASE_URL, "https://afftok.link");
}

export function iso(date: Date | string | null): string | null {
  if (date === null) return null;
  return (date instanceof Date ? date : new Date(date)).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Shared field rules and helpers

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

const IP_OR_CIDR =
  /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?:\/(?:3[0-2]|[12]?\d))?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:\/(?:12[0-8]|1[01]\d|[1-9]?\d))?)$/;

/** IPv4/IPv6 addresses or CIDR ranges, e.g. "203.0.113.10" or "2001:db8::/32". */
export const ipListSchema = v.pipe(
  v.array(v.pipe(v.string(), v.trim(), v.regex(IP_OR_CIDR, "must be an IP address or CIDR range"))),
  v.maxLength(100),
);

/** ISO 3166-1 alpha-2 codes, stored upper-case, without duplicates. */
export const countryListSchema = v.pipe(
  v.array(
    v.pipe(v.string(), v.trim(), v.toUpperCase(), v.regex(/^[A-Z]{2}$/, "must be a 2-letter country code")),
  ),
  v.maxLength(250),
  v.transform((list) => [...new Set(list)]),
);

function pgCode(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return pgCode(err) === "23505";
}

/**
 * Runs a delete in a transaction; if rows elsewhere still reference the record (a foreign key
 * added by another feature, say conversions), answers 409 CONFLICT instead of a 500.
 */
export async function deleteUnlessInUse(
  db: Kysely<Database>,
  work: (tx: Kysely<Database>) => Promise<void>,
  conflictMessage: string,
): Promise<void> {
  try {
    await db.transaction().execute(work);
  } catch (err) {
    if (pgCode(err) === "23503") throw new ApiError("CONFLICT", conflictMessage);
    throw err;
  }
}

type Bare<T extends readonly string[]> = { [K in keyof T]: T[K] extends `${string}.${infer C}` ? C : T[K] };

/** `["o.id", "o.name"]` → `["id", "name"]`, for RETURNING after an INSERT (which takes no alias). */
export function bare<const T extends readonly string[]>(columns: T): Bare<T> {
  return columns.map((c) => c.slice(c.indexOf(".") + 1)) as unknown as Bare<T>;
}
