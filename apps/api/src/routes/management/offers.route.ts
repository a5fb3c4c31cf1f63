// Offers: advertisers manage their own (network admins any in their network); publishers list the
// offers open to them. Every change the edge depends on rewrites the offer's link records at once.

import { ApiError, MAX_LINK_TTL_SECONDS, MIN_LINK_TTL_SECONDS, newId, successBody } from "@afftrack/core";
import {
  type Database,
  type OfferStatus,
  SECRET_PROPAGATION_SECONDS,
  trackingCodesOfOffer,
} from "@afftrack/db";
import type { Hono } from "hono";
import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { type Caller, callerOf, requireAuth } from "../../middleware/jwt-auth";
import { syncLinkRecords } from "../../services/edge-sync";
import {
  advertiserScope,
  bare,
  countryListSchema,
  cursorSql,
  decodeCursor,
  escapeLike,
  idSchema,
  ipListSchema,
  iso,
  nameSchema,
  notFound,
  page,
  pageEntries,
  readBody,
  readQuery,
  searchSchema,
} from "./common";

/** http(s) URL up to 2 KB; `{macro}` placeholders are allowed anywhere (seed: Sub ID Macros). */
const urlSchema = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(2048),
  v.check((url) => {
    try {
      const parsed = new URL(url.replace(/\{[a-z_0-9]+\}/g, "x"));
      return (parsed.protocol === "https:" || parsed.protocol === "http:") && parsed.hostname.length > 0;
    } catch {
      return false;
    }
  }, "must be an http(s) URL"),
);

const statusSchema = v.picklist(["active", "paused", "archived"]);

/** A revenue share is a percentage of the sale: above 100 the publisher would earn more than it. */
function assertRevshareWithin100(payoutType: string, payoutAmount: number): void {
  if (payoutType === "revshare" && payoutAmount > 100) {
    throw new ApiError("INVALID_PARAMS", "payout_amount: a revenue share is a percentage, at most 100");
  }
}
const fields = {
  name: nameSchema,
  destination_url: urlSchema,
  fallback_url: v.optional(v.nullable(urlSchema)),
  status: v.optional(statusSchema),
  payout_type: v.optional(v.picklist(["cpa", "revshare"])),
  payout_amount: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1_000_000_000))),
  currency: v.optional(
    v.pipe(v.string(), v.toUpperCase(), v.regex(/^[A-Z]{3}$/, "must be a 3-letter currency code")),
  ),
  allowed_countries: v.optional(countryListSchema),
  blocked_countries: v.optional(countryListSchema),
  link_ttl_seconds: v.optional(
    v.pipe(
      v.number(),
      v.integer("must be an integer"),
      v.minValue(MIN_LINK_TTL_SECONDS, "must be at least 60 (1 minute)"),
      v.maxValue(MAX_LINK_TTL_SECONDS, "must be at most 86400 (24 hours)"),
    ),
  ),
  postback_ip_allowlist: v.optional(ipListSchema),
  visibility: v.optional(v.picklist(["public", "private"])),
  allowed_publisher_ids: v.optional(v.pipe(v.array(idSchema), v.maxLength(1000))),
};
const CreateBody = v.strictObject({ ...fields, advertiser_id: v.optional(idSchema) });
const UpdateBody = v.pipe(
  v.strictObject({ ...fields, name: v.optional(nameSchema), destination_url: v.optional(urlSchema) }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
const ListQuery = v.strictObject({
  ...pageEntries,
  status: v.optional(statusSchema),
  advertiser_id: v.optional(idSchema),
  visibility: v.optional(v.picklist(["public", "private"])),
  q: searchSchema,
});

const offerColumns = [
  "o.id",
  "o.advertiser_id",
  "o.name",
  "o.destination_url",
  "o.fallback_url",
  "o.status",
  "o.payout_type",
  "o.payout_amount",
  "o.currency",
  "o.allowed_countries",
  "o.blocked_countries",
  "o.link_ttl_seconds",
  "o.visibility",
  "o.allowed_publisher_ids",
  "o.postback_ip_allowlist",
  "o.created_at",
  "o.updated_at",
] as const;

interface OfferRow {
  id: string;
  advertiser_id: string;
  name: string;
  destination_url: string;
  fallback_url: string | null;
  status: OfferStatus;
  payout_type: string;
  payout_amount: string;
  currency: string;
  allowed_countries: string[];
  blocked_countries: string[];
  link_ttl_seconds: number;
  visibility: string;
  allowed_publisher_ids: string[];
  postback_ip_allowlist: string[];
  created_at: Date;
  updated_at: Date;
}

/** The advertiser's (and admin's) view: everything. */
function serializeOffer(row: OfferRow) {
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    name: row.name,
    destination_url: row.destination_url,
    fallback_url: row.fallback_url,
    status: row.status,
    payout_type: row.payout_type,
    payout_amount: Number(row.payout_amount),
    currency: row.currency,
    allowed_countries: row.allowed_countries,
    blocked_countries: row.blocked_countries,
    link_ttl_seconds: row.link_ttl_seconds,
    visibility: row.visibility,
    allowed_publisher_ids: row.allowed_publisher_ids,
    postback_ip_allowlist: row.postback_ip_allowlist,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** A publisher's view: no other publishers' ids, no postback allowlist. */
function serializePublisherOffer(row: OfferRow & { user_offer_id: string | null }) {
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    name: row.name,
    destination_url: row.destination_url,
    status: row.status,
    payout_type: row.payout_type,
    payout_amount: Number(row.payout_amount),
    currency: row.currency,
    allowed_countries: row.allowed_countries,
    blocked_countries: row.blocked_countries,
    link_ttl_seconds: row.link_ttl_seconds,
    joined: row.user_offer_id !== null,
    user_offer_id: row.user_offer_id,
    created_at: iso(row.created_at),
  };
}

/** Offers a publisher may see and join: active, of an active advertiser, public or listing them. */
export function openToPublisher<O>(
  qb: SelectQueryBuilder<Database & { o: Database["offers"] }, "o", O>,
  caller: Caller,
) {
  return qb
    .where("o.tenant_id", "=", caller.tenant_id)
    .where("o.status", "=", "active")
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("advertisers as adv")
          .select("adv.id")
          .whereRef("adv.id", "=", "o.advertiser_id")
          .where("adv.status", "=", "active"),
      ),
    )
    .where((eb) =>
      eb.or([
        eb("o.visibility", "=", "public"),
        eb(sql.val(caller.publisher_id as string), "=", eb.fn.any("o.allowed_publisher_ids")),
      ]),
    );
}

/** The offer as the caller may manage it (advertiser: own; admin: network); else 404. */
async function managedOffer(db: Kysely<Database>, caller: Caller, id: string): Promise<OfferRow> {
  if (caller.role === "publisher") throw new ApiError("FORBIDDEN", "Your role may not do this");
  const row = await db
    .selectFrom("offers as o")
    .select(offerColumns)
    .where("o.id", "=", id)
    .where("o.tenant_id", "=", caller.tenant_id)
    .$if(caller.role === "advertiser", (qb) =>
      qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
    )
    .executeTakeFirst();
  if (!row) throw notFound("Offer");
  return row;
}

/** Every publisher id named must be a publisher of this network; otherwise "not found". */
async function checkPublishers(db: Kysely<Database>, tenantId: string, ids: readonly string[] | undefined) {
  if (!ids || ids.length === 0) return;
  const unique = [...new Set(ids)];
  const found = await db
    .selectFrom("publishers")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("id", "in", unique)
    .execute();
  if (found.length !== unique.length) throw notFound("Publisher");
}

export function registerOfferRoutes(app: Hono<AppEnv>): void {
  app.post("/api/offers", requireAuth(), async (c) => {
    const caller = callerOf(c);
    if (caller.role === "publisher") throw new ApiError("FORBIDDEN", "Your role may not do this");
    const body = await readBody(c, CreateBody);
    const db = c.get("db")();
    const advertiser_id = await advertiserScope(db, caller, body.advertiser_id);
    await checkPublishers(db, caller.tenant_id, body.allowed_publisher_ids);
    const { advertiser_id: _, ...values } = body;
    assertRevshareWithin100(values.payout_type ?? "cpa", values.payout_amount ?? 0);
    const row = await db
      .insertInto("offers")
      .values({
        ...values,
        allowed_publisher_ids: values.allowed_publisher_ids
          ? [...new Set(values.allowed_publisher_ids)]
          : undefined,
        payout_amount: values.payout_amount ?? 0,
        id: newId("off"),
        tenant_id: caller.tenant_id,
        advertiser_id,
      })
      .returning(bare(offerColumns))
      .executeTakeFirstOrThrow();
    return c.json(successBody(serializeOffer(row), "Offer created"), 201);
  });

  app.get("/api/offers", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const q = readQuery(c, ListQuery);
    const cur = cursorSql("o", decodeCursor(q.cursor));
    const db = c.get("db")();
    if (caller.role === "publisher") {
      const rows = await openToPublisher(
        db
          .selectFrom("offers as o")
          .leftJoin("tracking_links as l", (j) =>
            j.onRef("l.offer_id", "=", "o.id").on("l.publisher_id", "=", caller.publisher_id as string),
          )
          .select([...offerColumns, "l.id as user_offer_id", cur.cursorText]),
        caller,
      )
        .$if(q.status !== undefined, (qb) => qb.where("o.status", "=", q.status as OfferStatus))
        .$if(q.advertiser_id !== undefined, (qb) =>
          qb.where("o.advertiser_id", "=", q.advertiser_id as string),
        )
        .$if(q.q !== undefined, (qb) => qb.where("o.name", "ilike", `%${escapeLike(q.q as string)}%`))
        .where(cur.where)
        .orderBy("o.created_at", "desc")
        .orderBy("o.id", "desc")
        .limit(q.limit + 1)
        .execute();
      return c.json(successBody(page(rows, q.limit, serializePublisherOffer)));
    }
    const rows = await db
      .selectFrom("offers as o")
      .select([...offerColumns, cur.cursorText])
      .where("o.tenant_id", "=", caller.tenant_id)
      .$if(caller.role === "advertiser", (qb) =>
        qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
      )
      .$if(q.advertiser_id !== undefined, (qb) => qb.where("o.advertiser_id", "=", q.advertiser_id as string))
      .$if(q.status !== undefined, (qb) => qb.where("o.status", "=", q.status as OfferStatus))
      .$if(q.visibility !== undefined, (qb) => qb.where("o.visibility", "=", q.visibility as "public"))
      .$if(q.q !== undefined, (qb) => qb.where("o.name", "ilike", `%${escapeLike(q.q as string)}%`))
      .where(cur.where)
      .orderBy("o.created_at", "desc")
      .orderBy("o.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(successBody(page(rows, q.limit, serializeOffer)));
  });

  app.get("/api/offers/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const db = c.get("db")();
    const id = c.req.param("id");
    if (caller.role !== "publisher")
      return c.json(successBody(serializeOffer(await managedOffer(db, caller, id))));
    // A publisher sees an offer that is open to them, or one they joined (to follow its status).
    const publisherId = caller.publisher_id as string;
    const row = await db
      .selectFrom("offers as o")
      .leftJoin("tracking_links as l", (j) =>
        j.onRef("l.offer_id", "=", "o.id").on("l.publisher_id", "=", publisherId),
      )
      .select([...offerColumns, "l.id as user_offer_id"])
      .where("o.id", "=", id)
      .where("o.tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (!row) throw notFound("Offer");
    if (row.user_offer_id === null) {
      const open = await openToPublisher(db.selectFrom("offers as o").select("o.id"), caller)
        .where("o.id", "=", id)
        .executeTakeFirst();
      if (!open) throw notFound("Offer");
    }
    return c.json(successBody(serializePublisherOffer(row)));
  });

  app.patch("/api/offers/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    if (caller.role === "publisher") throw new ApiError("FORBIDDEN", "Your role may not do this");
    const body = await readBody(c, UpdateBody);
    const db = c.get("db")();
    const before = await managedOffer(db, caller, c.req.param("id"));
    assertRevshareWithin100(
      body.payout_type ?? before.payout_type,
      body.payout_amount ?? Number(before.payout_amount),
    );
    await checkPublishers(db, caller.tenant_id, body.allowed_publisher_ids);
    const row = await db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable("offers as o")
        .set({
          ...body,
          ...(body.allowed_publisher_ids
            ? { allowed_publisher_ids: [...new Set(body.allowed_publisher_ids)] }
            : {}),
          updated_at: new Date(),
        })
        .where("o.id", "=", before.id)
        .where("o.tenant_id", "=", caller.tenant_id)
        .returning(offerColumns)
        .executeTakeFirstOrThrow();
      if (body.link_ttl_seconds !== undefined && body.link_ttl_seconds > before.link_ttl_seconds) {
        // A longer TTL outlives the retiring secrets' grace: keep them as long as links signed
        // with them can now live.
        await tx
          .updateTable("link_secrets")
          .set({
            expires_at: sql`greatest(expires_at, now() + make_interval(secs => ${SECRET_PROPAGATION_SECONDS + body.link_ttl_seconds}))`,
          })
          .where("advertiser_id", "=", before.advertiser_id)
          .where("expires_at", ">", sql<Date>`now()`)
          .execute();
      }
      return updated;
    });
    await syncLinkRecords(db, c.get("redis"), await trackingCodesOfOffer(db, row.id));
    return c.json(successBody(serializeOffer(row), "Offer updated"));
  });

  // Offers keep their click and conversion history, so "delete" archives: links stop counting.
  app.delete("/api/offers/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const db = c.get("db")();
    const before = await managedOffer(db, caller, c.req.param("id"));
    const row = await db
      .updateTable("offers as o")
      .set({ status: "archived", updated_at: new Date() })
      .where("o.id", "=", before.id)
      .where("o.tenant_id", "=", caller.tenant_id)
      .returning(offerColumns)
      .executeTakeFirstOrThrow();
    await syncLinkRecords(db, c.get("redis"), await trackingCodesOfOffer(db, row.id));
    return c.json(successBody(serializeOffer(row), "Offer archived"));
  });
}
