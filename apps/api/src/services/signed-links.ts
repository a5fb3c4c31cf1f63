// The public URLs of a tracking link (tracking, short, signed) as the API hands them out: the
// join and sign endpoints both answer with them.

import { clampLinkTtl, linkTtlCeiling, type SignedLink, signLinkToken } from "@afftrack/core";
import { type Database, signingSecret } from "@afftrack/db";
import type { Kysely } from "kysely";
import type { ApiConfig } from "../config";

type LinkBases = Pick<ApiConfig, "trackingBaseUrl" | "shortLinkBaseUrl">;

export function linkUrls(
  config: LinkBases,
  link: { tracking_code: string; short_code: string | null },
): { tracking_url: string; short_link: string | null } {
  return {
    tracking_url: `${config.trackingBaseUrl}/c/${link.tracking_code}`,
    short_link: link.short_code ? `${config.shortLinkBaseUrl}/${link.short_code}` : null,
  };
}

/**
 * A fresh signed link for a tracking code, signed with the advertiser's current signing secret
 * and valid `ttlMinutes` (default: the offer's link TTL; at most the offer's ceiling, the
 * advertiser's `max_link_ttl_seconds` or else 24 hours). The edge checks `now - timestamp <
 * ceiling`, so a shorter TTL is enforced by stamping the link that much earlier: it then expires
 * exactly `ttl_seconds` from now at the edge, not just on paper. The link format is the seed's.
 */
export async function signLink(
  db: Kysely<Database>,
  config: LinkBases,
  link: {
    tenant_id: string;
    advertiser_id: string;
    tracking_code: string;
    link_ttl_seconds: number;
    max_link_ttl_seconds: number | null;
  },
  opts: { now: number; ttlMinutes?: number | undefined },
): Promise<SignedLink> {
  const ceiling = linkTtlCeiling(link);
  const requested =
    opts.ttlMinutes !== undefined ? opts.ttlMinutes * 60 : clampLinkTtl(link.link_ttl_seconds);
  const ttlSeconds = Math.min(ceiling, requested);
  const secret = await signingSecret(db, { tenant_id: link.tenant_id, advertiser_id: link.advertiser_id });
  const timestamp = opts.now - (ceiling - ttlSeconds) * 1000;
  const token = await signLinkToken({ secret, code: link.tracking_code, timestamp });
  return {
    signed_link: `${config.trackingBaseUrl}/c/${token}`,
    expires_at: new Date(timestamp + ceiling * 1000).toISOString(),
    ttl_seconds: ttlSeconds,
  };
}
