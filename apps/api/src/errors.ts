// How the API worker answers a thrown error: the seed's envelope with the request id, the right
// status, and one log line that keeps the stack. Outages of Postgres or Redis are 503 with
// Retry-After (the client should retry), never 500.

import { ApiError, type ErrorCode, errorBody } from "@afftrack/core";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "./config";
import type { AppEnv } from "./context";
import { createLogger } from "./services/logger";

/** Errors of an unreachable Postgres or Redis (network, pool, HTTP gateway), as the drivers throw them. */
export function isOutage(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const { name, message, code } = e as { name?: unknown; message?: unknown; code?: unknown };
    const text = `${String(name)} ${String(message)}`;
    if (
      typeof code === "string" &&
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|57P0[123]|08\d\d\d|53300)$/.test(code)
    )
      return true;
    if (
      /ECONNREFUSED|ECONNRESET|connection (refused|terminated|ended|closed)|Connection terminated|WebSocket|socket hang up|fetch failed|Network connection lost|network error|Server error \(HTTP status 5|timeout exceeded when trying to connect|UpstashError|Failed to fetch|internal error; reference|LeaderLostError/i.test(
        text,
      )
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The seed's error envelope with the request's id, as every refusal of the worker is sent. */
function answer(c: Context<AppEnv>, code: ErrorCode, message: string, status: number): Response {
  const requestId = c.get("requestId");
  return c.json(
    { ...errorBody(code, message), ...(requestId ? { request_id: requestId } : {}) },
    status as 400,
  );
}

/** The answer to a path no route matches. */
export function respondNotFound(c: Context<AppEnv>): Response {
  return answer(c, "NOT_FOUND", "No such endpoint", 404);
}

export function respondToError(err: Error, c: Context<AppEnv>): Response {
  const log = c.get("log") ?? createLogger({}, { request_id: c.get("requestId") });

  if (err instanceof ApiError) {
    if (err.status >= 500) log.warn("request refused", { code: err.code, reason: err.message });
    if (err.code === "SERVICE_UNAVAILABLE" && !c.res.headers.get("retry-after")) c.header("Retry-After", "1");
    return answer(c, err.code, err.message, err.status);
  }
  if (err instanceof HTTPException) {
    // Hono's own refusals (a body that is not JSON, say): the parse error we recorded names it better.
    const parsed = c.get("jsonBody");
    const message = parsed && !parsed.ok ? parsed.error : err.message || "Bad request";
    if (err.status === 400) return answer(c, "INVALID_PARAMS", message, 400);
    if (err.status === 401) return answer(c, "UNAUTHORIZED", message, 401);
    if (err.status === 404) return answer(c, "NOT_FOUND", message, 404);
    if (err.status === 413) return answer(c, "PAYLOAD_TOO_LARGE", message, 413);
  }
  if (err instanceof ConfigError) {
    // Loud in the logs (which binding is missing), quiet to the caller.
    log.error("api worker misconfigured", err);
    return answer(c, "INTERNAL_ERROR", "Internal error: the worker is misconfigured (see its logs)", 500);
  }
  if (isOutage(err)) {
    log.error("dependency unavailable", err);
    c.header("Retry-After", "2");
    return answer(c, "SERVICE_UNAVAILABLE", "A storage service is unavailable; retry shortly", 503);
  }
  log.error("unhandled error", err);
  return answer(c, "INTERNAL_ERROR", "Internal error", 500);
}
