// Offers, always seen through the caller: advertisers manage their own (network admins any in
// their network); publishers see the offers open to them, and those they joined.

import {
  ApiError,
  type CreateOfferInput,
  type DedupeMode,
  type FraudRules,
  type ListOffersInput,
  linkTtlCeiling,
  newId,
  type Offer,
  type PublisherOffer,
  type ShortLinkPolicy,
  type UpdateOfferInput,
  withFraudDefaults,
} from "@afftrack/core";
import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import { advertiserScopeOrThrow } from "./advertisers";
import type { ApplicationStatus } from "./applications-schema";
import { extendRetiringSecrets } from "./link-secrets";
import { escapeLike, type Page, paginate } from "./pagination";
import type { Database, OfferStatus } from "./schema";
import { type CallerScope, roleForbidden } from "./scope";

const FIELDS = [
  "id",
  "advertiser_id",
  "name",
  "destination_url",
  "fallback_url",
  "status",
  "payout_type",
  "payout_amount",
  "currency",
  "allowed_countries",
  "blocked_countries",
  "link_ttl_seconds",
  "max_link_ttl_seconds",
  "visibility",
  "allowed_publisher_ids",
  "accepts_applications",
  "postback_ip_allowlist",
  "attribution_window_days",
  "conversions_per_click",
  "paid_event_types",
  "short_link_policy",
  "dedupe_mode",
  "dedupe_window_seconds",
  "fraud_rules",
  "created_at",
  "updated_at",
] as const;
/** The same columns through the alias `o`, for selects that join. */
const COLUMNS = FIELDS.map((f) => `o.${f}` as const);

interface OfferRow {
  id: string;
  advertiser_id: string;
  name: string;
  destination_url: string;
  fallback_url: string | null;
  status: OfferStatus;
  payout_type: "cpa" | "revshare";
  payout_amount: string;
  currency: string;
  allowed_countries: string[];
  blocked_countries: string[];
  link_ttl_seconds: number;
  max_link_ttl_seconds: number | null;
  visibility: "public" | "private";
  allowed_publisher_ids: string[];
  accepts_applications: boolean;
  postback_ip_allowlist: string[];
  attribution_window_days: number;
  conversions_per_click: number;
  paid_event_types: string[];
  short_link_policy: ShortLinkPolicy;
  dedupe_mode: DedupeMode;
  dedupe_window_seconds: number;
  fraud_rules: Partial<FraudRules>;
  created_at: Date;
  updated_at: Date;
}

type OffersAs<Alias extends string> = Database & { [K in Alias]: Database["offers"] };

/** What both views show. */
function shared(row: OfferRow) {
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
    max_link_ttl_seconds: row.max_link_ttl_seconds,
    attribution_window_days: row.attribution_window_days,
    conversions_per_click: row.conversions_per_click,
    paid_event_types: row.paid_event_types,
  };
}

/** The manager's view: everything. */
function toOffer(row: OfferRow): Offer {
  return {
    ...shared(row),
    fallback_url: row.fallback_url,
    visibility: row.visibility,
    allowed_publisher_ids: row.allowed_publisher_ids,
    accepts_applications: row.accepts_applications,
    postback_ip_allowlist: row.postback_ip_allowlist,
    short_link_policy: row.short_link_policy,
    dedupe_mode: row.dedupe_mode,
    dedupe_window_seconds: row.dedupe_window_seconds,
    fraud_rules: withFraudDefaults(row.fraud_rules),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

type PublisherOfferRow = OfferRow & {
  user_offer_id: string | null;
  can_join: boolean;
  application_status: ApplicationStatus | null;
};

/** A publisher's view: no other publishers' ids, no postback allowlist; joined, open, applied. */
function toPublisherOffer(row: PublisherOfferRow): PublisherOffer {
  return {
    ...shared(row),
    joined: row.user_offer_id !== null,
    user_offer_id: row.user_offer_id,
    can_join: row.can_join,
    application_status: row.application_status,
    created_at: row.created_at.toISOString(),
  };
}

export function offerNotFound(): ApiError {
  return new ApiError("NOT_FOUND", "Offer not found");
}

/** A revenue share is a percentage of the sale: above 100 the publisher would earn more than it. */
function assertRevshareWithin100(payoutType: string, payoutAmount: number): void {
  if (payoutType === "revshare" && payoutAmount > 100) {
    throw new ApiError(
      "INVALID_PARAMS",
      'Invalid parameter "payout_amount": a revenue share is a percentage, at most 100',
    );
  }
}

/** Offers a publisher may see and join: active, of an active advertiser, public or listing them. */
export function openToPublisher<O>(qb: SelectQueryBuilder<OffersAs<"o">, "o", O>, caller: CallerScope) {
  return activeInNetwork(qb, caller).where((eb) =>
    eb.or([
      eb("o.visibility", "=", "public"),
      eb(sql.val(caller.publisher_id as string), "=", eb.fn.any("o.allowed_publisher_ids")),
    ]),
  );
}

/** Offers a publisher sees listed: those open to them, and private ones that accept applications. */
export function listedToPublisher<O>(qb: SelectQueryBuilder<OffersAs<"o">, "o", O>, caller: CallerScope) {
  return activeInNetwork(qb, caller).where((eb) =>
    eb.or([
      eb("o.visibility", "=", "public"),
      eb("o.accepts_applications", "=", true),
      eb(sql.val(caller.publisher_id as string), "=", eb.fn.any("o.allowed_publisher_ids")),
    ]),
  );
}

/** A publisher's rows: the offer, their link (if joined), whether it is open to them, their application. */
function publisherOffers(db: Kysely<Database>, caller: CallerScope) {
  const pub = caller.publisher_id as string;
  return db
    .selectFrom("offers as o")
    .leftJoin("tracking_links as l", (j) => j.onRef("l.offer_id", "=", "o.id").on("l.publisher_id", "=", pub))
    .leftJoin("offer_applications as a", (j) =>
      j.onRef("a.offer_id", "=", "o.id").on("a.publisher_id", "=", pub),
    )
    .select((eb) => [
      ...COLUMNS,
      "l.id as user_offer_id",
      "a.status as application_status",
      sql<boolean>`(${eb.or([eb("o.visibility", "=", "public"), eb(sql.val(pub), "=", eb.fn.any("o.allowed_publisher_ids"))])})`.as(
        "can_join",
      ),
    ]);
}

function activeInNetwork<O>(qb: SelectQueryBuilder<OffersAs<"o">, "o", O>, caller: CallerScope) {
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
    );
}

/** The offer as the caller may manage it (advertiser: own; admin: network); else NOT_FOUND. */
async function managedOfferOrThrow(db: Kysely<Database>, caller: CallerScope, id: string): Promise<OfferRow> {
  if (caller.role === "publisher") throw roleForbidden();
  const row = await db
    .selectFrom("offers as o")
    .select(COLUMNS)
    .where("o.id", "=", id)
    .where("o.tenant_id", "=", caller.tenant_id)
    .$if(caller.role === "advertiser", (qb) =>
      qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
    )
    .executeTakeFirst();
  if (!row) throw offerNotFound();
  return row;
}

/** Every publisher id named must be a publisher of this network; otherwise NOT_FOUND. */
async function assertPublishersInNetwork(
  db: Kysely<Database>,
  tenantId: string,
  ids: readonly string[] | undefined,
): Promise<void> {
  if (!ids || ids.length === 0) return;
  const found = await db
    .selectFrom("publishers")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("id", "in", ids)
    .execute();
  if (found.length !== ids.length) throw new ApiError("NOT_FOUND", "Publisher not found");
}

export async function createOffer(
  db: Kysely<Database>,
  caller: CallerScope,
  input: CreateOfferInput,
): Promise<Offer> {
  const { advertiser_id: requested, fraud_rules, ...values } = input;
  const advertiser_id = await advertiserScopeOrThrow(db, caller, requested);
  await assertPublishersInNetwork(db, caller.tenant_id, values.allowed_publisher_ids);
  assertRevshareWithin100(values.payout_type ?? "cpa", values.payout_amount ?? 0);
  const row = await db
    .insertInto("offers")
    .values({
      ...values,
      // Stored as given: rules left out follow the platform's defaults, also when those change.
      ...(fraud_rules ? { fraud_rules: JSON.stringify(fraud_rules) } : {}),
      payout_amount: values.payout_amount ?? 0,
      id: newId("off"),
      tenant_id: caller.tenant_id,
      advertiser_id,
    })
    .returning(FIELDS)
    .executeTakeFirstOrThrow();
  return toOffer(row);
}

/** A publisher's list: the offers open to them, with whether they joined. Others: those they manage. */
export function listOffers(
  db: Kysely<Database>,
  caller: CallerScope,
  query: ListOffersInput,
): Promise<Page<Offer | PublisherOffer>> {
  const { status, advertiser_id, visibility, q } = query;
  const filtered = <O>(qb: SelectQueryBuilder<OffersAs<"o">, "o", O>) =>
    qb
      .$if(status !== undefined, (b) => b.where("o.status", "=", status as OfferStatus))
      .$if(advertiser_id !== undefined, (b) => b.where("o.advertiser_id", "=", advertiser_id as string))
      .$if(q !== undefined, (b) => b.where("o.name", "ilike", `%${escapeLike(q as string)}%`));
  if (caller.role === "publisher") {
    const base = publisherOffers(db, caller);
    return paginate(filtered(listedToPublisher(base, caller)), "o", query, toPublisherOffer);
  }
  const base = db
    .selectFrom("offers as o")
    .select(COLUMNS)
    .where("o.tenant_id", "=", caller.tenant_id)
    .$if(caller.role === "advertiser", (qb) =>
      qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
    )
    .$if(visibility !== undefined, (qb) => qb.where("o.visibility", "=", visibility as "public"));
  return paginate(filtered(base), "o", query, toOffer);
}

/** A manager's view of an offer they manage; a publisher's of one open to them or one they joined. */
export async function getOfferOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  id: string,
): Promise<Offer | PublisherOffer> {
  if (caller.role !== "publisher") return toOffer(await managedOfferOrThrow(db, caller, id));
  // A publisher keeps seeing an offer they joined (to follow its status), open or not.
  const row = await publisherOffers(db, caller)
    .where("o.id", "=", id)
    .where("o.tenant_id", "=", caller.tenant_id)
    .executeTakeFirst();
  if (!row) throw offerNotFound();
  if (row.user_offer_id === null) {
    const open = await listedToPublisher(db.selectFrom("offers as o").select("o.id"), caller)
      .where("o.id", "=", id)
      .executeTakeFirst();
    if (!open) throw offerNotFound();
  }
  return toPublisherOffer(row);
}

export async function updateOfferOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  id: string,
  input: UpdateOfferInput,
): Promise<Offer> {
  const before = await managedOfferOrThrow(db, caller, id);
  assertRevshareWithin100(
    input.payout_type ?? before.payout_type,
    input.payout_amount ?? Number(before.payout_amount),
  );
  await assertPublishersInNetwork(db, caller.tenant_id, input.allowed_publisher_ids);
  const { fraud_rules, ...fields } = input;
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable("offers as o")
      .set({
        ...fields,
        // Rules named replace the stored ones; the others stay as they were (merged in the
        // statement, so concurrent updates of different rules both stick).
        ...(fraud_rules
          ? { fraud_rules: sql<string>`o.fraud_rules || ${JSON.stringify(fraud_rules)}::jsonb` }
          : {}),
        updated_at: new Date(),
      })
      .where("o.id", "=", before.id)
      .where("o.tenant_id", "=", caller.tenant_id)
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    // Links are accepted for the offer's TTL ceiling: when it grows, retiring secrets must too.
    if (linkTtlCeiling(row) > linkTtlCeiling(before)) {
      await extendRetiringSecrets(tx, before.advertiser_id, linkTtlCeiling(row));
    }
    return toOffer(row);
  });
}

/** Offers keep their click and conversion history, so "delete" archives: their links stop counting. */
export async function archiveOfferOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  id: string,
): Promise<Offer> {
  const before = await managedOfferOrThrow(db, caller, id);
  const row = await db
    .updateTable("offers as o")
    .set({ status: "archived", updated_at: new Date() })
    .where("o.id", "=", before.id)
    .where("o.tenant_id", "=", caller.tenant_id)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toOffer(row);
}
