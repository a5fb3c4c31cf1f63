// Reads the request body once, refusing it with 413 PAYLOAD_TOO_LARGE before any parsing when it
// is larger than the limit — by Content-Length when given, and by the bytes actually received.

import { ApiError } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";

declare module "../context" {
  interface ApiVariables {
    /** Set by bodyLimit(); read it with rawBodyOf(c). */
    rawBody?: Uint8Array<ArrayBuffer>;
  }
}

/**
 * An oversized body is still read (and discarded, never parsed) up to this many bytes before the
 * 413: answering while the client is still sending makes the runtime reset the connection, and the
 * client then sees a network error instead of the refusal. Anything larger is cut off.
 */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

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

export interface BodyLimitOptions {
  /** Largest accepted body in bytes. */
  maxBytes: number;
}

/**
 * @example
 * app.post("/api/postback", bodyLimit({ maxBytes: 64 * 1024 }), handler);
 */
export function bodyLimit(opts: BodyLimitOptions): MiddlewareHandler<AppEnv> {
  const tooLarge = () => new ApiError("PAYLOAD_TOO_LARGE", `Body larger than ${opts.maxBytes} bytes`);
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      if (!/^\d{1,15}$/.test(declared.trim())) throw new ApiError("INVALID_PARAMS", "Invalid Content-Length");
      if (Number(declared) > opts.maxBytes) {
        const body = c.req.raw.body;
        if (body && Number(declared) <= DRAIN_LIMIT_BYTES) await drain(body.getReader(), 0);
        throw tooLarge();
      }
    }
    const body = c.req.raw.body;
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (body) {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > opts.maxBytes) {
          await drain(reader, size);
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.set("rawBody", bytes);
    await next();
  };
}

export function rawBodyOf(c: AppContext): Uint8Array<ArrayBuffer> {
  const body = c.get("rawBody");
  if (!body) throw new Error("bodyLimit() must run before this handler");
  return body;
}
