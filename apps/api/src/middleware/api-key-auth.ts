// Authenticates the advertiser's API key from X-API-Key or the body's api_key (seed) and puts the
// key's owner on the context. The body is parsed here once, leniently: a malformed body is
// reported by the next guard that needs it, after the rate limiter has counted the request.
// Key records are kept in the isolate for INGEST_CACHE_TTL_MS, so a busy key costs no query, and a
// revoked or expired key is refused everywhere within that bound.

import { ApiError, parseJsonObject, sha256Hex } from "@afftrack/core";
import { API_KEY_PATTERN, type AuthenticatedApiKey, authenticateApiKey } from "@afftrack/db";
import type { AppContext } from "../context";
import { createIsolateCache, INGEST_CACHE_TTL_MS } from "../services/isolate-cache";
import { rawBodyOf } from "./body-limit";

const keys = createIsolateCache<AuthenticatedApiKey | null>({ ttlMs: INGEST_CACHE_TTL_MS });

export interface ApiKeyPrincipal extends AuthenticatedApiKey {
  /** The key as presented: the seed's signature is keyed by it. Never logged. */
  presented: string;
}

declare module "../context" {
  interface ApiVariables {
    /** Set by authenticateRequestKey(); read it with apiKeyOf(c). */
    apiKey?: ApiKeyPrincipal;
  }
}

/**
 * The request's API key, from X-API-Key or the body's `api_key`, authenticated (isolate cache,
 * else Postgres) and put on the context; 401 INVALID_API_KEY otherwise.
 *
 * @example
 * const key = await authenticateRequestKey(c);
 */
export async function authenticateRequestKey(c: AppContext): Promise<ApiKeyPrincipal> {
  const parsed = c.get("jsonBody") ?? parseJsonObject(rawBodyOf(c));
  const fromHeader = c.req.header("x-api-key")?.trim() || undefined;
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
  // A string that cannot be a key is refused without a lookup (and never fills the cache); keys are
  // cached by their hash, so the cache holds no key and its entries are small.
  if (!API_KEY_PATTERN.test(key))
    throw new ApiError("INVALID_API_KEY", "API key not found, revoked or expired");
  const found = await keys.get(await sha256Hex(key), () => authenticateApiKey(c.get("db")(), key));
  // A key that expires while cached is refused at once.
  if (!found || (found.expires_at && found.expires_at.getTime() <= c.get("services").now())) {
    throw new ApiError("INVALID_API_KEY", "API key not found, revoked or expired");
  }
  const principal = { ...found, presented: key };
  c.set("apiKey", principal);
  c.get("log").set({ tenant_id: found.tenant_id, key_id: found.id });
  return principal;
}

export function apiKeyOf(c: AppContext): ApiKeyPrincipal {
  const key = c.get("apiKey");
  if (!key) throw new Error("the ingest guards must run before this handler");
  return key;
}
