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
      if (Number(declared) > opts.maxBytes) throw tooLarge();
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
          await reader.cancel().catch(() => undefined);
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
