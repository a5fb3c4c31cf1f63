// Tracking links: a publisher joins an offer to get one, signs fresh links for it and lists them;
// and the link records (the edge's view of a tracking code) built from Postgres.

import {
  ApiError,
  type FraudRules,
  type LinkRecord,
  type ListLinksInput,
  linkTtlCeiling,
  newId,
  newShortCode,
  newTrackingCode,
  type TrackingLink,
  withFraudDefaults,
} from "@afftrack/core";
import type { Kysely } from "kysely";
import { liveSecret } from "./link-secrets";
import { listedToPublisher, offerNotFound, openToPublisher } from "./offers";
import { type Page, paginate } from "./pagination";
import type { Database } from "./schema";
import type { CallerScope } from "./scope";

export interface LoadedLinkRecord {
  record: LinkRecord;
  /** Seconds the record may be cached: shorter when a retiring secret expires sooner. */
  maxAgeSeconds: number;
}

export const LINK_RECORD_MAX_AGE_SECONDS = 3600;

/** Tracking links (l) with their offer (o), its advertiser (a) and the publisher (p). */
function linksWithOwners(db: Kysely<Database>) {
  return db
    .selectFrom("tracking_links as l")
    .innerJoin("offers as o", "o.id", "l.offer_id")
    .innerJoin("advertisers as a", "a.id", "o.advertiser_id")
    .innerJoin("publishers as p", "p.id", "l.publisher_id");
}

/** The part of an offer's fraud rules the edge applies (the conversion-time rule is the API's). */
function edgeFraudRules(stored: Partial<FraudRules>): NonNullable<LinkRecord["fraud"]> {
  const { datacenter, ip_frequency, link_frequency } = withFraudDefaults(stored);
  return { datacenter, ip_frequency, link_frequency };
}

export async function loadLinkRecord(
  db: Kysely<Database>,
  by: { trackingCode: string } | { shortCode: string },
): Promise<LoadedLinkRecord | null> {
  const row = await linksWithOwners(db)
    .select([
      "a.status as advertiser_status",
      "p.status as publisher_status",
      "l.tracking_code",
      "l.short_code",
      "l.tenant_id",
      "l.offer_id",
      "l.publisher_id",
      "o.advertiser_id",
      "o.status",
      "o.destination_url",
      "o.fallback_url",
      "o.allowed_countries",
      "o.blocked_countries",
      "o.link_ttl_seconds",
      "o.max_link_ttl_seconds",
      "o.visibility",
      "o.allowed_publisher_ids",
      "o.short_link_policy",
      "o.dedupe_mode",
      "o.dedupe_window_seconds",
      "o.fraud_rules",
    ])
    .$if("trackingCode" in by, (q) =>
      q.where("l.tracking_code", "=", (by as { trackingCode: string }).trackingCode),
    )
    .$if("shortCode" in by, (q) => q.where("l.short_code", "=", (by as { shortCode: string }).shortCode))
    .executeTakeFirst();
  if (!row) return null;
  const secrets = await db
    .selectFrom("link_secrets")
    .select(["secret", "expires_at"])
    .where("advertiser_id", "=", row.advertiser_id)
    .where(liveSecret)
    .orderBy("created_at", "desc")
    .execute();
  const now = Date.now();
  let maxAge = LINK_RECORD_MAX_AGE_SECONDS;
  for (const s of secrets) {
    if (s.expires_at)
      maxAge = Math.min(maxAge, Math.max(1, Math.ceil((s.expires_at.getTime() - now) / 1000)));
  }
  return {
    record: {
      v: 1,
      tracking_code: row.tracking_code,
      short_code: row.short_code,
      tenant_id: row.tenant_id,
      offer_id: row.offer_id,
      publisher_id: row.publisher_id,
      advertiser_id: row.advertiser_id,
      // A suspended advertiser or publisher, or a publisher no longer admitted to a private offer,
      // stops counting like a paused offer.
      status:
        row.advertiser_status === "suspended" ||
        row.publisher_status === "suspended" ||
        (row.visibility === "private" && !row.allowed_publisher_ids.includes(row.publisher_id))
          ? "paused"
          : row.status,
      destination_url: row.destination_url,
      fallback_url: row.fallback_url,
      allowed_countries: row.allowed_countries.map((c) => c.toUpperCase()),
      blocked_countries: row.blocked_countries.map((c) => c.toUpperCase()),
      // How long the edge accepts a link after its timestamp: the offer's TTL ceiling (links signed
      // for less are stamped earlier by the difference, services/signed-links.ts).
      link_ttl_seconds: linkTtlCeiling(row),
      secrets: secrets.map((s) => s.secret),
      short_link_policy: row.short_link_policy,
      dedupe_mode: row.dedupe_mode,
      dedupe_window_seconds: row.dedupe_window_seconds,
      fraud: edgeFraudRules(row.fraud_rules),
    },
    maxAgeSeconds: maxAge,
  };
}

/** Tracking codes of an offer's links: to refresh after the offer changes. */
export async function trackingCodesOfOffer(db: Kysely<Database>, offerId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("tracking_links")
    .select("tracking_code")
    .where("offer_id", "=", offerId)
    .execute();
  return rows.map((r) => r.tracking_code);
}

/** Tracking codes of a publisher's links: to refresh after the publisher changes. */
export async function trackingCodesOfPublisher(db: Kysely<Database>, publisherId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("tracking_links")
    .select("tracking_code")
    .where("publisher_id", "=", publisherId)
    .execute();
  return rows.map((r) => r.tracking_code);
}

/** Tracking codes whose record depends on an advertiser (its offers' links): to refresh after a change. */
export async function trackingCodesOfAdvertiser(
  db: Kysely<Database>,
  advertiserId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom("tracking_links as l")
    .innerJoin("offers as o", "o.id", "l.offer_id")
    .select("l.tracking_code")
    .where("o.advertiser_id", "=", advertiserId)
    .execute();
  return rows.map((r) => r.tracking_code);
}

export interface JoinedLink {
  link: { id: string; tracking_code: string; short_code: string | null };
  /** False when the publisher had joined before: the same link comes back. */
  created: boolean;
  offer: {
    advertiser_id: string;
    destination_url: string;
    link_ttl_seconds: number;
    max_link_ttl_seconds: number | null;
  };
}

/** A publisher joins an offer open to them: their tracking link on it, made on the first join. */
export async function joinOfferOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  offerId: string,
): Promise<JoinedLink> {
  const publisherId = caller.publisher_id as string;
  const offer = await openToPublisher(
    db
      .selectFrom("offers as o")
      .select([
        "o.id",
        "o.advertiser_id",
        "o.destination_url",
        "o.link_ttl_seconds",
        "o.max_link_ttl_seconds",
      ]),
    caller,
  )
    .where("o.id", "=", offerId)
    .executeTakeFirst();
  if (!offer) {
    // Listed to them, but admitting publishers by application: say so rather than "not found".
    const applicable = await listedToPublisher(db.selectFrom("offers as o").select("o.id"), caller)
      .where("o.id", "=", offerId)
      .executeTakeFirst();
    if (applicable) {
      throw new ApiError("FORBIDDEN", "This offer admits publishers by application: apply to it first");
    }
    throw offerNotFound();
  }
  const publisher = await db
    .selectFrom("publishers")
    .select("status")
    .where("id", "=", publisherId)
    .where("tenant_id", "=", caller.tenant_id)
    .executeTakeFirst();
  if (publisher?.status !== "active") throw new ApiError("FORBIDDEN", "Publisher account is not active");

  // Joining twice returns the same link. A random code colliding with another is retried.
  for (let attempt = 0; attempt < 5; attempt++) {
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
    if (inserted) return { link: inserted, created: true, offer };
    const existing = await db
      .selectFrom("tracking_links")
      .select(["id", "tracking_code", "short_code"])
      .where("offer_id", "=", offer.id)
      .where("publisher_id", "=", publisherId)
      .executeTakeFirst();
    if (existing) return { link: existing, created: false, offer };
  }
  throw new Error("could not allocate a unique tracking code");
}

/**
 * The caller's own tracking code, if a new link may be signed for it now: another publisher's
 * code is NOT_FOUND like an unknown one; an inactive offer, a suspended publisher or a private
 * offer they are no longer admitted to is refused.
 */
export async function signableLinkOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  trackingCode: string,
): Promise<{
  tracking_code: string;
  advertiser_id: string;
  link_ttl_seconds: number;
  max_link_ttl_seconds: number | null;
}> {
  const publisherId = caller.publisher_id as string;
  const link = await linksWithOwners(db)
    .select([
      "l.tracking_code",
      "o.advertiser_id",
      "o.status",
      "o.link_ttl_seconds",
      "o.max_link_ttl_seconds",
      "o.visibility",
      "o.allowed_publisher_ids",
      "a.status as advertiser_status",
      "p.status as publisher_status",
    ])
    .where("l.tracking_code", "=", trackingCode)
    .where("l.tenant_id", "=", caller.tenant_id)
    .where("l.publisher_id", "=", publisherId)
    .executeTakeFirst();
  if (!link) throw new ApiError("NOT_FOUND", "Tracking code not found");
  if (link.status !== "active" || link.advertiser_status !== "active") {
    throw new ApiError("INVALID_OFFER", "Offer is not active");
  }
  if (link.publisher_status !== "active")
    throw new ApiError("FORBIDDEN", "Your publisher account is suspended");
  if (link.visibility === "private" && !link.allowed_publisher_ids.includes(publisherId)) {
    throw new ApiError("FORBIDDEN", "You are no longer admitted to this offer");
  }
  return link;
}

/** A tracking link as listed, before its public URLs are added (they depend on the deployment). */
export type StoredTrackingLink = Omit<TrackingLink, "tracking_url" | "short_link">;

/** Publishers see their own links, advertisers those on their offers, admins the network's. */
export function listTrackingLinks(
  db: Kysely<Database>,
  caller: CallerScope,
  query: ListLinksInput,
): Promise<Page<StoredTrackingLink>> {
  const { offer_id, publisher_id } = query;
  return paginate(
    db
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
      ])
      .where("l.tenant_id", "=", caller.tenant_id)
      .$if(caller.role === "publisher", (qb) =>
        qb.where("l.publisher_id", "=", caller.publisher_id as string),
      )
      .$if(caller.role === "advertiser", (qb) =>
        qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
      )
      .$if(offer_id !== undefined, (qb) => qb.where("l.offer_id", "=", offer_id as string))
      .$if(publisher_id !== undefined, (qb) => qb.where("l.publisher_id", "=", publisher_id as string)),
    "l",
    query,
    ({ id, created_at, ...rest }) => ({ user_offer_id: id, ...rest, created_at: created_at.toISOString() }),
  );
}
