// Tracking links (seed: afftok-tracking-links.md, "API: Get Tracking Link" and "API: Generate New
// Signed Link"): a publisher joins an offer to get a tracking code, and signs fresh links for it.

import {
  ApiError,
  clampLinkTtl,
  newId,
  newShortCode,
  newTrackingCode,
  signLinkToken,
  successBody,
} from "@afftrack/core";
import { signingSecret } from "@afftrack/db";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppContext, AppEnv } from "../../context";
import { callerOf, requireAuth, requireRole } from "../../middleware/jwt-auth";
import { syncLinkRecords } from "../../services/edge-sync";
import {
  cursorSql,
  decodeCursor,
  idSchema,
  iso,
  notFound,
  page,
  pageEntries,
  readBody,
  readQuery,
  shortLinkBase,
  trackingBase,
} from "./common";
import { openToPublisher } from "./offers.route";

const SignBody = v.strictObject({
  tracking_code: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  ttl_minutes: v.optional(
    v.pipe(
      v.number(),
      v.integer("must be an integer"),
      v.minValue(1, "must be at least 1"),
      v.maxValue(1440, "must be at most 1440 (24 hours)"),
    ),
  ),
});
const ListQuery = v.strictObject({
  ...pageEntries,
  offer_id: v.optional(idSchema),
  publisher_id: v.optional(idSchema),
});

/**
 * A signed link whose validity is `ttlSeconds` (at most the offer's TTL). The edge checks
 * `now - timestamp < offer TTL`, so a shorter requested TTL is enforced by stamping the link
 * that much earlier: it then expires exactly `ttlSeconds` from now at the edge, not just on paper.
 */
async function signedLink(
  c: AppContext,
  opts: { secret: string; code: string; offerTtlSeconds: number; ttlSeconds: number },
) {
  const now = Date.now();
  const timestamp = now - (opts.offerTtlSeconds - opts.ttlSeconds) * 1000;
  const token = await signLinkToken({ secret: opts.secret, code: opts.code, timestamp });
  return {
    signed_link: `${trackingBase(c)}/c/${token}`,
    expires_at: new Date(timestamp + opts.offerTtlSeconds * 1000).toISOString(),
    ttl_seconds: opts.ttlSeconds,
  };
}

function linkUrls(c: AppContext, link: { tracking_code: string; short_code: string | null }) {
  return {
    tracking_url: `${trackingBase(c)}/c/${link.tracking_code}`,
    short_link: link.short_code ? `${shortLinkBase(c)}/${link.short_code}` : null,
  };
}

export function registerLinkRoutes(app: Hono<AppEnv>): void {
  app.post("/api/offers/:id/join", requireAuth(), async (c) => {
    const caller = requireRole(c, "publisher");
    const publisherId = caller.publisher_id as string;
    const db = c.get("db")();
    const offer = await openToPublisher(
      db
        .selectFrom("offers as o")
        .select(["o.id", "o.tenant_id", "o.advertiser_id", "o.destination_url", "o.link_ttl_seconds"]),
      caller,
    )
      .where("o.id", "=", c.req.param("id"))
      .executeTakeFirst();
    if (!offer) throw notFound("Offer");
    const publisher = await db
      .selectFrom("publishers")
      .select("status")
      .where("id", "=", publisherId)
      .where("tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (publisher?.status !== "active") throw new ApiError("FORBIDDEN", "Publisher account is not active");

    // Joining twice returns the same link. A random code colliding with another is retried.
    let created = false;
    let link: { id: string; tracking_code: string; short_code: string | null } | undefined;
    for (let attempt = 0; attempt < 5 && !link; attempt++) {
      const inserted = await db
        .insertInto("tracking_links")
        .values({
          id: newId("uo"),
          tenant_id: caller.tenant_id,
          offer_id: offer.id,
          publisher_id: publisherId,
          tracking_code: newTrackingCode(),
          short_code: newShortCode(),
        })
        .onConflict((oc) => oc.doNothing())
        .returning(["id", "tracking_code", "short_code"])
        .executeTakeFirst();
      if (inserted) {
        created = true;
        link = inserted;
        break;
      }
      link = await db
        .selectFrom("tracking_links")
        .select(["id", "tracking_code", "short_code"])
        .where("offer_id", "=", offer.id)
        .where("publisher_id", "=", publisherId)
        .executeTakeFirst();
    }
    if (!link) throw new Error("could not allocate a unique tracking code");
    if (created) await syncLinkRecords(db, c.get("redis"), [link.tracking_code]);

    const ttl = clampLinkTtl(offer.link_ttl_seconds);
    const secret = await signingSecret(db, {
      tenant_id: caller.tenant_id,
      advertiser_id: offer.advertiser_id,
    });
    const signed = await signedLink(c, {
      secret,
      code: link.tracking_code,
      offerTtlSeconds: ttl,
      ttlSeconds: ttl,
    });
    const urls = linkUrls(c, link);
    return c.json(
      successBody(
        {
          user_offer_id: link.id,
          tracking_code: link.tracking_code,
          tracking_url: urls.tracking_url,
          signed_link: signed.signed_link,
          short_link: urls.short_link,
          destination_url: offer.destination_url,
          expires_at: signed.expires_at,
          ttl_seconds: signed.ttl_seconds,
        },
        created ? "Offer joined" : "Already joined",
      ),
      created ? 201 : 200,
    );
  });

  app.post("/api/links/sign", requireAuth(), async (c) => {
    const caller = requireRole(c, "publisher");
    const body = await readBody(c, SignBody);
    const db = c.get("db")();
    // Only the caller's own codes: another publisher's code is "not found", like an unknown one.
    const link = await db
      .selectFrom("tracking_links as l")
      .innerJoin("offers as o", "o.id", "l.offer_id")
      .innerJoin("advertisers as a", "a.id", "o.advertiser_id")
      .innerJoin("publishers as p", "p.id", "l.publisher_id")
      .select([
        "l.tracking_code",
        "o.advertiser_id",
        "o.status",
        "o.link_ttl_seconds",
        "o.visibility",
        "o.allowed_publisher_ids",
        "a.status as advertiser_status",
        "p.status as publisher_status",
      ])
      .where("l.tracking_code", "=", body.tracking_code)
      .where("l.tenant_id", "=", caller.tenant_id)
      .where("l.publisher_id", "=", caller.publisher_id as string)
      .executeTakeFirst();
    if (!link) throw notFound("Tracking code");
    if (link.status !== "active" || link.advertiser_status !== "active") {
      throw new ApiError("INVALID_OFFER", "Offer is not active");
    }
    if (link.publisher_status !== "active")
      throw new ApiError("FORBIDDEN", "Your publisher account is suspended");
    if (
      link.visibility === "private" &&
      !link.allowed_publisher_ids.includes(caller.publisher_id as string)
    ) {
      throw new ApiError("FORBIDDEN", "You are no longer admitted to this offer");
    }
    const offerTtl = clampLinkTtl(link.link_ttl_seconds);
    const ttlSeconds = Math.min(offerTtl, (body.ttl_minutes ?? offerTtl / 60) * 60);
    const secret = await signingSecret(db, {
      tenant_id: caller.tenant_id,
      advertiser_id: link.advertiser_id,
    });
    return c.json(
      successBody(
        await signedLink(c, { secret, code: link.tracking_code, offerTtlSeconds: offerTtl, ttlSeconds }),
      ),
    );
  });

  app.get("/api/links", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const q = readQuery(c, ListQuery);
    const cur = cursorSql("l", decodeCursor(q.cursor));
    const rows = await c
      .get("db")()
      .selectFrom("tracking_links as l")
      .innerJoin("offers as o", "o.id", "l.offer_id")
      .select([
        "l.id",
        "l.offer_id",
        "o.name as offer_name",
        "o.status as offer_status",
        "l.publisher_id",
        "l.tracking_code",
        "l.short_code",
        "l.created_at",
        cur.cursorText,
      ])
      .where("l.tenant_id", "=", caller.tenant_id)
      .$if(caller.role === "publisher", (qb) =>
        qb.where("l.publisher_id", "=", caller.publisher_id as string),
      )
      .$if(caller.role === "advertiser", (qb) =>
        qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
      )
      .$if(q.offer_id !== undefined, (qb) => qb.where("l.offer_id", "=", q.offer_id as string))
      .$if(q.publisher_id !== undefined, (qb) => qb.where("l.publisher_id", "=", q.publisher_id as string))
      .where(cur.where)
      .orderBy("l.created_at", "desc")
      .orderBy("l.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(
      successBody(
        page(rows, q.limit, (r) => ({
          user_offer_id: r.id,
          offer_id: r.offer_id,
          offer_name: r.offer_name,
          offer_status: r.offer_status,
          publisher_id: r.publisher_id,
          tracking_code: r.tracking_code,
          short_code: r.short_code,
          ...linkUrls(c, r),
          created_at: iso(r.created_at),
        })),
      ),
    );
  });
}
