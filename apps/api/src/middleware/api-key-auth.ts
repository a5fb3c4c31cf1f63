// Authenticates the advertiser's API key from X-API-Key or the body's api_key (seed) and puts the
// key's owner on the context. The body is parsed here once, leniently: a malformed body is
// reported by the next guard that needs it, after the rate limiter has counted the request.

import { ApiError, parseJsonObject } from "@afftrack/core";
import { type AuthenticatedApiKey, authenticateApiKey } from "@afftrack/db";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";
import { rawBodyOf } from "./body-limit";

export interface ApiKeyPrincipal extends AuthenticatedApiKey {
  /** The key as presented: the seed's signature is keyed by it. Never logged. */
  presented: string;
}

declare module "../context" {
  interface ApiVariables {
    /** Set by apiKeyAuth(); read it with apiKeyOf(c). */
    apiKey?: ApiKeyPrincipal;
  }
}

export interface ApiKeyAuthOptions {
  /** Header carrying the key (default "x-api-key"); the body's `api_key` is the fallback. */
  header?: string;
}

/**
 * @example
 * app.post("/api/postback", bodyLimit({ maxBytes }), apiKeyAuth(), handler);
 */
export function apiKeyAuth(opts: ApiKeyAuthOptions = {}): MiddlewareHandler<AppEnv> {
  const header = opts.header ?? "x-api-key";
  return async (c, next) => {
    const parsed = c.get("jsonBody") ?? parseJsonObject(rawBodyOf(c));
    const fromHeader = c.req.header(header)?.trim() || undefined;
    const bodyValue = parsed.ok ? parsed.value.api_key : undefined;
    const fromBody = typeof bodyValue === "string" && bodyValue !== "" ? bodyValue : undefined;
    const key = fromHeader ?? fromBody;
    if (!key) {
      if (!parsed.ok) throw new ApiError("INVALID_PARAMS", parsed.error);
      throw new ApiError("INVALID_API_KEY", "Missing API key (X-API-Key header or api_key)");
    }
    if (fromHeader && fromBody && fromHeader !== fromBody) {
      throw new ApiError("INVALID_API_KEY", "api_key in the body does not match the X-API-Key header");
    }
    const found = await authenticateApiKey(c.get("db")(), key);
    if (!found) throw new ApiError("INVALID_API_KEY", "API key not found, revoked or expired");
    c.set("apiKey", { ...found, presented: key });
    c.get("log").set({ tenant_id: found.tenant_id, key_id: found.id });
    await next();
  };
}

export function apiKeyOf(c: AppContext): ApiKeyPrincipal {
  const key = c.get("apiKey");
  if (!key) throw new Error("apiKeyAuth() must run before this handler");
  return key;
}
