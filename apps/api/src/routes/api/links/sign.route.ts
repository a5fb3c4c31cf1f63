// POST /api/links/sign (seed: afftok-tracking-links.md, "API: Generate New Signed Link") — a
// publisher signs a fresh link for one of their tracking codes, valid ttl_minutes (default the
// offer's link_ttl_seconds), at most the advertiser's max_link_ttl_seconds when set.

import { SignedLinkSchema, SignLinkBody, successBody } from "@afftrack/core";
import { signableLinkOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { takeRateLimit } from "../../../middleware/rate-limit";
import { describe, validate } from "../../../openapi/route";
import { signLink } from "../../../services/signed-links";

export function registerLinkSign(app: Hono<AppEnv>): void {
  app.post(
    "/api/links/sign",
    describe({
      tag: "Links",
      summary: "Sign a fresh link",
      description:
        "Only the caller's own tracking codes (another publisher's is NOT_FOUND). A paused or archived offer is INVALID_OFFER. Any ttl_minutes of 1–1440 is honoured, up to the offer's max_link_ttl_seconds when the advertiser set one (default: the offer's link_ttl_seconds). At most 600 links per publisher per minute (X-RateLimit-* headers; 429 RATE_LIMITED with Retry-After).",
      auth: "jwt",
      response: SignedLinkSchema,
      requestExample: { tracking_code: "abc123def456", ttl_minutes: 10 },
      example: {
        success: true,
        data: {
          signed_link: "https://track.afftok.com/c/abc123def456.1699876600000.newnonce.newsig",
          expires_at: "2024-01-15T10:10:00Z",
          ttl_seconds: 600,
        },
      },
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "INVALID_OFFER", "RATE_LIMITED"],
    }),
    requireAuth("publisher"),
    validate("json", SignLinkBody),
    async (c) => {
      const caller = callerOf(c);
      const perMinute = c.get("config").signLimitPerMinute;
      await takeRateLimit(
        c,
        { id: caller.publisher_id ?? caller.user_id },
        {
          prefix: "rl:sign",
          perMinute,
          perHour: perMinute * 60,
        },
      );
      const body = c.req.valid("json");
      const db = c.get("db")();
      const link = await signableLinkOrThrow(db, caller, body.tracking_code);
      const signed = await signLink(
        db,
        c.get("config"),
        { ...link, tenant_id: caller.tenant_id },
        { now: c.get("services").now(), ttlMinutes: body.ttl_minutes },
      );
      return c.json(successBody(signed));
    },
  );
}
