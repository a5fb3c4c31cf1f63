// Postbacks from an advertiser with an IP allowlist (CIDR, IPv4/IPv6) must come from inside it.
// The client address is Cloudflare's cf-connecting-ip; without one the request cannot be placed.

import { assertIpAllowed } from "@afftrack/core";
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

/**
 * @example
 * app.post("/api/postback", apiKeyAuth(), rateLimit(), ipAllowlist(), handler);
 */
export function ipAllowlist(opts: IpAllowlistOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertIpAllowed(apiKeyOf(c).postback_ip_allowlist, clientIpOf(c, opts.header), "advertiser's");
    await next();
  };
}
