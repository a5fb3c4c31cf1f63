// Bearer-token guard of the management API: verifies the HS256 access token and puts the caller
// (user, role, network and own advertiser/publisher) on the context for every scoped query.

import { ApiError, type Caller, callerFromClaims, type UserRole, verifyJwt } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";

export type { Caller } from "@afftrack/core";

declare module "../context" {
  interface ApiVariables {
    /** Set by requireAuth(); read it with callerOf(c). */
    caller?: Caller;
    /** When the caller's access token expires (ms since the epoch); set by requireAuth(). */
    tokenExpiresAt?: number;
  }
}

/**
 * Refuses the request with 401 UNAUTHORIZED unless it carries a valid, unexpired access token,
 * and with 403 FORBIDDEN when `roles` are given and the caller has none of them. The message never
 * says which check failed beyond "expired", so tokens cannot be probed.
 *
 * @example
 * app.post("/api/advertisers", describe(...), requireAuth("network_admin"), validate("json", Body), handler);
 */
export function requireAuth(...roles: UserRole[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? tokenOfWebSocketProtocol(c);
    if (!token) throw new ApiError("UNAUTHORIZED", "Missing bearer token");
    const result = await verifyJwt(token, c.get("config").jwtSecret);
    if (!result.ok) {
      throw new ApiError(
        "UNAUTHORIZED",
        result.reason === "expired" ? "Access token expired" : "Invalid access token",
      );
    }
    const caller = callerFromClaims(result.claims);
    // A role token without its own account id is not one we issued; refuse rather than widen scope.
    if (caller.role === "advertiser" && !caller.advertiser_id)
      throw new ApiError("UNAUTHORIZED", "Invalid access token");
    if (caller.role === "publisher" && !caller.publisher_id)
      throw new ApiError("UNAUTHORIZED", "Invalid access token");
    c.set("caller", caller);
    c.set("tokenExpiresAt", result.claims.exp * 1000);
    c.get("log").set({ tenant_id: caller.tenant_id, user_id: caller.user_id });
    // The role is checked here, before the request is validated or anything is looked up, so a
    // caller who may not use the endpoint learns nothing about it (not even its schema).
    if (roles.length > 0 && !roles.includes(caller.role)) {
      throw new ApiError("FORBIDDEN", "Your role may not do this");
    }
    await next();
  };
}

/** The live stream's subprotocol; a browser's WebSocket offers it beside `bearer.<token>`. */
export const LIVE_PROTOCOL = "afftrack.live.v1";

/** A browser cannot set headers on a WebSocket: its token comes as the subprotocol `bearer.<jwt>`. */
function tokenOfWebSocketProtocol(c: AppContext): string | undefined {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return undefined;
  const offered = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  return offered.find((p) => p.startsWith("bearer."))?.slice("bearer.".length) || undefined;
}

export function callerOf(c: AppContext): Caller {
  const caller = c.get("caller");
  if (!caller) throw new ApiError("UNAUTHORIZED", "Missing bearer token");
  return caller;
}
