// Shared pieces of every wire format: how validation issues are named in INVALID_PARAMS errors,
// text Postgres cannot store, request bodies parsed once, and the seed's response envelopes.

import * as v from "valibot";
import { ERROR_STATUS, type ErrorCode } from "../errors";

/** `Invalid parameter "amount": ...` — the seed asks that INVALID_PARAMS names the bad field. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], prefix = ""): string {
  const issue = issues[0];
  if (!issue) return "Invalid parameters";
  const path = v.getDotPath(issue) ?? "";
  const field = prefix && path ? `${prefix}.${path}` : prefix || path;
  const missing = issue.input === undefined && issue.kind === "schema";
  if (!field) return `Invalid parameters: ${issue.message}`;
  if (missing) return `Missing parameter "${field}"`;
  if (issue.kind === "schema" && issue.type === "strict_object") return `Unknown parameter "${field}"`;
  return `Invalid parameter "${field}": ${issue.message}`;
}

export type JsonObjectResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

// NUL and lone surrogates survive JSON.parse but Postgres text/jsonb refuses them: reject up front.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when any string in the JSON value holds NUL or a lone surrogate (Postgres refuses both). */
export function hasUnstorableText(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") {
      if (value.includes("\0") || LONE_SURROGATE.test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object") {
      for (const [k, item] of Object.entries(value)) {
        if (k.includes("\0") || LONE_SURROGATE.test(k)) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes and parses a request body that must be a JSON object; never throws. */
export function parseJsonObject(bytes: Uint8Array): JsonObjectResult {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, error: "Body is not valid UTF-8" };
  }
  if (text.trim() === "") return { ok: false, error: "Body is empty; a JSON object is required" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "Malformed JSON body" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, error: "Body must be a JSON object" };
  }
  if (hasUnstorableText(value))
    return { ok: false, error: "Body contains NUL or unpaired surrogate characters" };
  return { ok: true, value: value as Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------
// Envelopes (seed: every answer is `{success, message?, data}` or `{success: false, error, code}`)

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export const ErrorBodySchema = v.object({
  success: v.literal(false),
  error: v.pipe(v.string(), v.description("What went wrong, naming the bad field where there is one")),
  code: v.pipe(v.picklist(ERROR_CODES), v.description("Machine-readable error code (seed's table)")),
  request_id: v.optional(
    v.pipe(v.string(), v.description("The `x-request-id` of this request, for support and logs")),
  ),
});

/** The seed's success envelope around a route's data schema. */
export function successEnvelope<T extends v.GenericSchema>(data: T) {
  return v.object({ success: v.literal(true), message: v.optional(v.string()), data });
}

/** A page of a list: newest first, `next_cursor` null on the last page. */
export function pageOf<T extends v.GenericSchema>(item: T) {
  return v.object({
    items: v.array(item),
    next_cursor: v.pipe(
      v.nullable(v.string()),
      v.description("Pass as `cursor` to get the next page; null on the last page"),
    ),
  });
}
