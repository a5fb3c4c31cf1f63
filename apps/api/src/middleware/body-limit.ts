// Reads every request body once, streaming, and refuses it with 413 PAYLOAD_TOO_LARGE before any
// parsing when it is larger than the limit (by Content-Length when given, and by the bytes
// actually received), or with 415 when a non-empty body is not JSON. The bytes are kept for
// signature checks and handed to Hono's body cache, so validators parse them without a second read.

import { ApiError, type JsonObjectResult, parseJsonObject } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";

declare module "../context" {
  interface ApiVariables {
    /** Set by bodyLimit(); read it with rawBodyOf(c). */
    rawBody?: Uint8Array<ArrayBuffer>;
    /** The body parsed once as a JSON object (or why it is not one); read it with jsonBodyOf(c). */
    jsonBody?: JsonObjectResult;
  }
}

/**
 * An oversized body is still read (and discarded, never parsed) up to this many bytes before the
 * 413: answering while the client is still sending makes the runtime reset the connection, and the
 * client then sees a network error instead of the refusal. Anything larger is cut off.
 */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  let read = alreadyRead;
  try {
    while (read <= DRAIN_LIMIT_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away; the refusal stands.
  }
}

async function readAll(c: AppContext, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () => new ApiError("PAYLOAD_TOO_LARGE", `Body larger than ${maxBytes} bytes`);
  const declared = c.req.header("content-length");
  const body = c.req.raw.body;
  if (declared !== undefined) {
    if (!/^\d{1,15}$/.test(declared.trim())) throw new ApiError("INVALID_PARAMS", "Invalid Content-Length");
    if (Number(declared) > maxBytes) {
      if (body && Number(declared) <= DRAIN_LIMIT_BYTES) await drain(body.getReader(), 0);
      throw tooLarge();
    }
  }
  if (body && declared !== undefined) {
    // Framed by Content-Length (within the limit, checked above): the runtime reads it whole,
    // which costs far less than a chunk loop on this hot path.
    try {
      return new Uint8Array(await c.req.raw.arrayBuffer());
    } catch {
      throw new ApiError("INVALID_PARAMS", "Request body was cut off before it was complete");
    }
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        // The client closed before sending the body it declared: nothing to act on.
        throw new ApiError("INVALID_PARAMS", "Request body was cut off before it was complete");
      }
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > maxBytes) {
        await drain(reader, size);
        throw tooLarge();
      }
      chunks.push(chunk.value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Hono keeps the promise of each body reading here (its type names the Body methods, not their results). */
function bodyCacheOf(c: AppContext): Record<string, Promise<unknown>> {
  return c.req.bodyCache as unknown as Record<string, Promise<unknown>>;
}

export interface BodyLimitOptions {
  /** Largest accepted body in bytes. */
  maxBytes: number;
}

/**
 * @example
 * app.use(bodyLimit({ maxBytes: 64 * 1024 }));
 */
export function bodyLimit(opts: BodyLimitOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return next();
    const bytes = await readAll(c, opts.maxBytes);
    c.set("rawBody", bytes);
    if (bytes.byteLength === 0) {
      // No body: validators see an empty object, so a required field is reported by name.
      bodyCacheOf(c).json = Promise.resolve({});
    } else {
      const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
      if (!JSON_MEDIA_TYPE.test(mediaType)) {
        throw new ApiError(
          "UNSUPPORTED_MEDIA_TYPE",
          "Request body must be JSON (Content-Type: application/json)",
        );
      }
      const parsed = parseJsonObject(bytes);
      c.set("jsonBody", parsed);
      // Validators read the body through Hono's cache: give them the bytes already read, and the
      // parsed object when it is one (a body that is not surfaces as that validator's 400).
      bodyCacheOf(c).arrayBuffer = Promise.resolve(bytes.buffer);
      if (parsed.ok) bodyCacheOf(c).json = Promise.resolve(parsed.value);
    }
    await next();
  };
}

export function rawBodyOf(c: AppContext): Uint8Array<ArrayBuffer> {
  const body = c.get("rawBody");
  if (!body) throw new Error("bodyLimit() must run before this handler");
  return body;
}

/** The parsed body object; refuses the request with 400 INVALID_PARAMS when it was not one. */
export function jsonBodyOf(c: AppContext): Record<string, unknown> {
  const parsed = c.get("jsonBody") ?? parseJsonObject(rawBodyOf(c));
  if (!parsed.ok) throw new ApiError("INVALID_PARAMS", parsed.error);
  return parsed.value;
}
