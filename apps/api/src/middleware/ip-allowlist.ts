// Postbacks from an advertiser with an IP allowlist (CIDR, IPv4/IPv6) must come from inside it.
// The client address is Cloudflare's cf-connecting-ip; without one the request cannot be placed.

import { ApiError, isIpAllowed } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../context";
import { apiKeyOf } from "./api-key-auth";

export interface IpAllowlistOptions {
  /** Header with the client IP (default "cf-connecting-ip"). */
  header?: string;
}

export function clientIpOf(c: AppContext, header = "cf-connecting-ip"): string | null {
  return c.req.header(header)?.trim() || null;
}

/** Refuses with 403 IP_NOT_ALLOWED when the allowlist is non-empty and does not hold the client. */
export function assertIpAllowed(ranges: readonly string[], ip: string | null, what: string): void {
  if (ranges.length === 0) return;
  if (!ip || !isIpAllowed(ip, ranges)) {
    throw new ApiError("IP_NOT_ALLOWED", `Client IP is not in the ${what} postback allowlist`);
  }
}

/**
 * @example
 * app.post("/api/postback", bodyLimit(...), apiKeyAuth(), rateLimit(), ipAllowlist(), handler);
 */
export function ipAllowlist(opts: IpAllowlistOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertIpAllowed(apiKeyOf(c).postback_ip_allowlist, clientIpOf(c, opts.header), "advertiser's");
    await next();
  };
}
