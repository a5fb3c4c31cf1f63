// The influencer tracker's aggregate: customers (a network's brands), their access keys, products
// (widget codes), the events of `POST /t/{access_key}` with their 15-minute counters, widget totals
// and the brand's stats. Every management lookup is scoped by the caller's network.

import {
  ApiError,
  type CreateTrackerCustomerInput,
  type CreateTrackerProductInput,
  type ListTrackerInput,
  randomBase62,
  sha256Hex,
  TRACKER_KEY_PATTERN,
  TRACKER_KEY_PREFIX_LENGTH,
  TRACKER_STATS_MAX_ROWS,
  type TrackerAccessKey,
  type TrackerCustomer,
  type TrackerProduct,
  type TrackerStats,
  type TrackerStatsInput,
  type UpdateTrackerProductInput,
} from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import { isUniqueViolation, type Page, paginate } from "./pagination";
import type { Database } from "./schema";

const trackerId = (prefix: string) => `${prefix}_${randomBase62(16)}`;

// ---------------------------------------------------------------------------------------------
// Customers

const CUSTOMER_COLUMNS = ["id", "customer_code", "name", "created_at"] as const;

function toCustomer(row: {
  id: string;
  customer_code: string;
  name: string;
  created_at: Date;
}): TrackerCustomer {
  return { ...row, created_at: row.created_at.toISOString() };
}

export async function createTrackerCustomer(
  db: Kysely<Database>,
  tenantId: string,
  input: CreateTrackerCustomerInput,
): Promise<TrackerCustomer> {
  try {
    const row = await db
      .insertInto("tracker_customers")
      .values({ id: trackerId("cus"), tenant_id: tenantId, ...input })
      .returning(CUSTOMER_COLUMNS)
      .executeTakeFirstOrThrow();
    return toCustomer(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError("CONFLICT", "customer_code is already taken");
    throw err;
  }
}

export function listTrackerCustomers(
  db: Kysely<Database>,
  tenantId: string,
  query: ListTrackerInput,
): Promise<Page<TrackerCustomer>> {
  return paginate(
    db
      .selectFrom("tracker_customers")
      .select(CUSTOMER_COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(query.customer_id !== undefined, (qb) => qb.where("id", "=", query.customer_id as string)),
    "tracker_customers",
    query,
    toCustomer,
  );
}

export async function getTrackerCustomerOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<TrackerCustomer> {
  const row = await db
    .selectFrom("tracker_customers")
    .select(CUSTOMER_COLUMNS)
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (!row) throw new ApiError("NOT_FOUND", "Customer not found");
  return toCustomer(row);
}

// ---------------------------------------------------------------------------------------------
// Access keys: stored as SHA-256 hex, the 10-character prefix shown

const KEY_COLUMNS = ["id", "customer_id", "prefix", "status", "last_used_at", "created_at"] as const;

interface KeyRow {
  id: string;
  customer_id: string;
  prefix: string;
  status: "active" | "revoked";
  last_used_at: Date | null;
  created_at: Date;
}

function toKey(row: KeyRow): TrackerAccessKey {
  return {
    ...row,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

export interface IssuedTrackerKey {
  key: string;
  record: TrackerAccessKey;
}

export async function createTrackerAccessKey(
  db: Kysely<Database>,
  tenantId: string,
  customerId: string,
): Promise<IssuedTrackerKey> {
  await getTrackerCustomerOrThrow(db, tenantId, customerId);
  const key = `tk_${randomBase62(40)}`;
  const row = await db
    .insertInto("tracker_access_keys")
    .values({
      id: trackerId("tak"),
      tenant_id: tenantId,
      customer_id: customerId,
      prefix: key.slice(0, TRACKER_KEY_PREFIX_LENGTH),
      key_hash: await sha256Hex(key),
    })
    .returning(KEY_COLUMNS)
    .executeTakeFirstOrThrow();
  return { key, record: toKey(row) };
}

export function listTrackerAccessKeys(
  db: Kysely<Database>,
  tenantId: string,
  query: ListTrackerInput,
): Promise<Page<TrackerAccessKey>> {
  return paginate(
    db
      .selectFrom("tracker_access_keys")
      .select(KEY_COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(query.customer_id !== undefined, (qb) =>
        qb.where("customer_id", "=", query.customer_id as string),
      ),
    "tracker_access_keys",
    query,
    toKey,
  );
}

/** Revokes the key (idempotent); NOT_FOUND when it is not the network's. */
export async function revokeTrackerAccessKeyOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<TrackerAccessKey> {
  const row = await db
    .updateTable("tracker_access_keys")
    .set({ status: "revoked" })
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .returning(KEY_COLUMNS)
    .executeTakeFirst();
  if (!row) throw new ApiError("NOT_FOUND", "Access key not found");
  return toKey(row);
}

export interface TrackerKeyOwner {
  key_id: string;
  tenant_id: string;
  customer_id: string;
  customer_code: string;
}

/**
 * The key's customer when the key exists and is active; otherwise null. Touches last_used_at at
 * most once a minute in the same statement (one round trip).
 */
export async function authenticateTrackerKey(
  db: Kysely<Database>,
  key: string,
): Promise<TrackerKeyOwner | null> {
  if (!TRACKER_KEY_PATTERN.test(key)) return null;
  const keyHash = await sha256Hex(key);
  const result = await sql<TrackerKeyOwner>`
    WITH k AS (
      SELECT k.id, k.tenant_id, k.customer_id, c.customer_code, k.last_used_at
      FROM tracker_access_keys k JOIN tracker_customers c ON c.id = k.customer_id
      WHERE k.key_hash = ${keyHash} AND k.status = 'active'
    ), touch AS (
      UPDATE tracker_access_keys SET last_used_at = now()
      WHERE id = (SELECT id FROM k)
        AND ((SELECT last_used_at FROM k) IS NULL OR (SELECT last_used_at FROM k) < now() - interval '1 minute')
    )
    SELECT id AS key_id, tenant_id, customer_id, customer_code FROM k
  `.execute(db);
  return result.rows[0] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Products (widget codes)

interface ProductRow {
  id: string;
  customer_id: string;
  customer_code: string;
  code: string;
  name: string;
  goal: number | null;
  display_style: "bar" | "counter" | "minimal";
  anti_cheat: boolean;
  event_types: string[];
  status: "active" | "paused";
  created_at: Date;
  updated_at: Date;
}

function toProduct(row: ProductRow): TrackerProduct {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

function productQuery(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom("tracker_products as p")
    .innerJoin("tracker_customers as c", "c.id", "p.customer_id")
    .select([
      "p.id",
      "p.customer_id",
      "c.customer_code",
      "p.code",
      "p.name",
      "p.goal",
      "p.display_style",
      "p.anti_cheat",
      "p.event_types",
      "p.status",
      "p.created_at",
      "p.updated_at",
    ])
    .where("p.tenant_id", "=", tenantId);
}

export async function getTrackerProductOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<TrackerProduct> {
  const row = await productQuery(db, tenantId).where("p.id", "=", id).executeTakeFirst();
  if (!row) throw new ApiError("NOT_FOUND", "Product not found");
  return toProduct(row);
}

export async function createTrackerProduct(
  db: Kysely<Database>,
  tenantId: string,
  input: CreateTrackerProductInput,
): Promise<TrackerProduct> {
  await getTrackerCustomerOrThrow(db, tenantId, input.customer_id);
  const id = trackerId("prd");
  try {
    await db
      .insertInto("tracker_products")
      .values({
        id,
        tenant_id: tenantId,
        customer_id: input.customer_id,
        code: input.code,
        name: input.name,
        goal: input.goal ?? null,
        display_style: input.display_style,
        anti_cheat: input.anti_cheat,
        event_types: input.event_types,
        status: input.status,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ApiError("CONFLICT", "This customer already has a product with that code");
    throw err;
  }
  return getTrackerProductOrThrow(db, tenantId, id);
}

export function listTrackerProducts(
  db: Kysely<Database>,
  tenantId: string,
  query: ListTrackerInput,
): Promise<Page<TrackerProduct>> {
  return paginate(
    productQuery(db, tenantId).$if(query.customer_id !== undefined, (qb) =>
      qb.where("p.customer_id", "=", query.customer_id as string),
    ),
    "p",
    query,
    toProduct,
  );
}

export async function updateTrackerProductOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  input: UpdateTrackerProductInput,
): Promise<TrackerProduct> {
  const result = await db
    .updateTable("tracker_products")
    .set({ ...input, updated_at: sql<Date>`now()` })
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new ApiError("NOT_FOUND", "Product not found");
  return getTrackerProductOrThrow(db, tenantId, id);
}

/** What the postback path needs of a product (cached in the isolate by the API worker). */
export interface TrackerProductRecord {
  id: string;
  anti_cheat: boolean;
  event_types: string[];
}

/** The customer's active product with that code, or null. */
export async function findTrackerProduct(
  db: Kysely<Database>,
  customerId: string,
  code: string,
): Promise<TrackerProductRecord | null> {
  const row = await db
    .selectFrom("tracker_products")
    .select(["id", "anti_cheat", "event_types"])
    .where("customer_id", "=", customerId)
    .where("code", "=", code)
    .where("status", "=", "active")
    .executeTakeFirst();
  return row ?? null;
}

// ---------------------------------------------------------------------------------------------
// Events

export interface TrackerEventRow {
  tenant_id: string;
  customer_id: string;
  product_id: string;
  influencer_id: string;
  event_type: string | null;
  event_name: string | null;
  campaign: string | null;
  medium: string | null;
  source: string | null;
  country: string | null;
  device: string | null;
  /** Set only when the product's anti-cheat applies (ip and user agent given). */
  viewer_hash: string | null;
  /** False when the product does not count this event type. */
  countable: boolean;
  now: Date;
  bucket: Date;
}

export interface RecordedTrackerEvent {
  event_id: string;
  publisher_id: string;
  counted: boolean;
  filtered_reason: "repeat_viewer" | "event_type_not_counted" | null;
  /** A counted event's totals right after it (null when not counted): for the widgets. */
  totals: WidgetTotals | null;
}

/**
 * One statement: the influencer's publisher (created on first sight), the event (counted, or kept
 * as filtered when the anti-cheat unique index already holds this viewer's counted event of the
 * day, or the product does not count its type) and its 15-minute counter. Race-free: concurrent
 * repeats meet the unique index, never a read-then-write.
 */
export async function recordTrackerEvent(
  db: Kysely<Database>,
  e: TrackerEventRow,
): Promise<RecordedTrackerEvent> {
  const eventId = trackerId("tev");
  const day = e.now.toISOString().slice(0, 10);
  const eventType = e.event_type ?? "";
  const campaign = e.campaign ?? "";
  const run = () =>
    sql<{ publisher_id: string; counted: boolean; total: string | null; campaign_total: string | null }>`
    WITH pub_new AS (
      INSERT INTO publishers (id, tenant_id, name, influencer_id)
      VALUES (${trackerId("pub")}, ${e.tenant_id}, ${e.influencer_id}, ${e.influencer_id})
      ON CONFLICT (tenant_id, influencer_id) WHERE influencer_id IS NOT NULL DO NOTHING
      RETURNING id
    ), pub AS (
      SELECT id FROM pub_new
      UNION ALL
      SELECT id FROM publishers WHERE tenant_id = ${e.tenant_id} AND influencer_id = ${e.influencer_id}
      LIMIT 1
    ), ev AS (
      SELECT ${eventId}::text AS id, ${e.tenant_id}::text AS tenant_id, ${e.customer_id}::text AS customer_id,
        ${e.product_id}::text AS product_id, pub.id AS publisher_id, ${e.influencer_id}::text AS influencer_id,
        ${eventType}::text AS event_type, ${e.event_name}::text AS event_name, ${campaign}::text AS campaign,
        ${e.medium}::text AS medium, ${e.source}::text AS source, ${e.country}::text AS country,
        ${e.device}::text AS device, ${e.viewer_hash}::text AS viewer_hash, ${day}::date AS day,
        ${e.now}::timestamptz AS created_at
      FROM pub
    ), counted AS (
      INSERT INTO tracker_events (id, tenant_id, customer_id, product_id, publisher_id, influencer_id,
        event_type, event_name, campaign, medium, source, country, device, viewer_hash, day, counted,
        filtered_reason, created_at)
      SELECT id, tenant_id, customer_id, product_id, publisher_id, influencer_id, event_type, event_name,
        campaign, medium, source, country, device, viewer_hash, day, true, NULL, created_at
      FROM ev WHERE ${e.countable}::boolean
      ON CONFLICT (product_id, publisher_id, event_type, day, viewer_hash)
        WHERE counted AND viewer_hash IS NOT NULL DO NOTHING
      RETURNING id
    ), filtered AS (
      INSERT INTO tracker_events (id, tenant_id, customer_id, product_id, publisher_id, influencer_id,
        event_type, event_name, campaign, medium, source, country, device, viewer_hash, day, counted,
        filtered_reason, created_at)
      SELECT id, tenant_id, customer_id, product_id, publisher_id, influencer_id, event_type, event_name,
        campaign, medium, source, country, device, viewer_hash, day, false,
        CASE WHEN ${e.countable}::boolean THEN 'repeat_viewer' ELSE 'event_type_not_counted' END, created_at
      FROM ev WHERE NOT EXISTS (SELECT 1 FROM counted)
      RETURNING id
    ), roll AS (
      INSERT INTO tracker_rollups (tenant_id, product_id, publisher_id, campaign, event_type, bucket, counted, filtered)
      SELECT ${e.tenant_id}, ${e.product_id}, pub.id, ${campaign}, ${eventType}, ${e.bucket}::timestamptz,
        (SELECT count(*) FROM counted), (SELECT count(*) FROM filtered)
      FROM pub
      ON CONFLICT (product_id, publisher_id, campaign, event_type, bucket) DO UPDATE
        SET counted = tracker_rollups.counted + EXCLUDED.counted,
            filtered = tracker_rollups.filtered + EXCLUDED.filtered
    ), totals AS (
      INSERT INTO tracker_totals (tenant_id, product_id, publisher_id, campaign, counted)
      SELECT ${e.tenant_id}, ${e.product_id}, pub.id, c.campaign, 1
      FROM pub, counted, (SELECT DISTINCT x FROM (VALUES (''), (${campaign}::text)) v (x)) c (campaign)
      ON CONFLICT (product_id, publisher_id, campaign) DO UPDATE SET counted = tracker_totals.counted + 1
      RETURNING campaign, counted
    )
    SELECT pub.id AS publisher_id, EXISTS (SELECT 1 FROM counted) AS counted,
      (SELECT counted::text FROM totals WHERE campaign = '') AS total,
      (SELECT counted::text FROM totals WHERE campaign <> '') AS campaign_total
    FROM pub
  `.execute(db);
  let result = await run();
  // A concurrent first sight of the same influencer: our insert yielded to theirs, which our
  // snapshot does not see yet. Nothing was written; run again and see it.
  if (result.rows.length === 0) result = await run();
  const row = result.rows[0];
  if (!row) throw new Error("influencer could not be created or found");
  return {
    event_id: eventId,
    publisher_id: row.publisher_id,
    counted: row.counted,
    filtered_reason: row.counted ? null : e.countable ? "repeat_viewer" : "event_type_not_counted",
    totals:
      row.counted && row.total !== null
        ? {
            total: Number(row.total),
            campaign_totals:
              campaign !== "" && row.campaign_total !== null
                ? { [campaign]: Number(row.campaign_total) }
                : {},
          }
        : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Widgets

export interface WidgetRecord {
  tenant_id: string;
  customer_id: string;
  customer_code: string;
  product_id: string;
  product_code: string;
  name: string;
  goal: number | null;
  display_style: "bar" | "counter" | "minimal";
}

/** The active product `productCode` of the customer `customerCode`, or null. */
export async function findWidget(
  db: Kysely<Database>,
  customerCode: string,
  productCode: string,
): Promise<WidgetRecord | null> {
  const row = await db
    .selectFrom("tracker_products as p")
    .innerJoin("tracker_customers as c", "c.id", "p.customer_id")
    .select([
      "p.tenant_id",
      "p.customer_id",
      "c.customer_code",
      "p.id as product_id",
      "p.code as product_code",
      "p.name",
      "p.goal",
      "p.display_style",
    ])
    .where("c.customer_code", "=", customerCode)
    .where("p.code", "=", productCode)
    .where("p.status", "=", "active")
    .executeTakeFirst();
  return row ?? null;
}

export interface WidgetTotals {
  total: number;
  campaign_totals: Record<string, number>;
}

/** The influencer's counted events on a product, overall and per campaign (running totals). */
export async function widgetTotals(
  db: Kysely<Database>,
  w: { tenant_id: string; product_id: string; influencer_id: string },
): Promise<WidgetTotals> {
  const rows = await db
    .selectFrom("tracker_totals as t")
    .innerJoin("publishers as p", "p.id", "t.publisher_id")
    .select(["t.campaign", "t.counted"])
    .where("p.tenant_id", "=", w.tenant_id)
    .where("p.influencer_id", "=", w.influencer_id)
    .where("t.product_id", "=", w.product_id)
    .execute();
  const campaign_totals: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    if (r.campaign === "") total = Number(r.counted);
    else campaign_totals[r.campaign] = Number(r.counted);
  }
  return { total, campaign_totals };
}

// ---------------------------------------------------------------------------------------------
// Stats

const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;
const MAX_DAYS = { day: 400, hour: 62 } as const;

function instant(text: string, tz: string) {
  // A date or a local date-time is read in the query's zone; one with an offset as it says.
  const local = text.length === 10 ? `${text} 00:00:00` : text;
  return HAS_OFFSET.test(text) ? sql`${text}::timestamptz` : sql`(${local}::timestamp AT TIME ZONE ${tz})`;
}

/** Counted and filtered events per period, product, influencer, campaign and event type. */
export async function trackerStats(
  db: Kysely<Database>,
  tenantId: string,
  q: TrackerStatsInput,
  maxRows = TRACKER_STATS_MAX_ROWS,
): Promise<TrackerStats> {
  const fromMs = Date.parse(q.from.length === 10 ? `${q.from}T00:00:00Z` : q.from);
  const toMs = Date.parse(q.to.length === 10 ? `${q.to}T00:00:00Z` : q.to);
  if (!(toMs > fromMs)) throw new ApiError("INVALID_PARAMS", 'Invalid parameter "to": must be after "from"');
  if (toMs - fromMs > MAX_DAYS[q.interval] * 86_400_000) {
    throw new ApiError(
      "INVALID_PARAMS",
      `Invalid parameter "to": at most ${MAX_DAYS[q.interval]} days per request with interval=${q.interval}`,
    );
  }
  const tz = q.timezone;
  const period = sql<Date>`(date_trunc(${q.interval}, r.bucket AT TIME ZONE ${tz}) AT TIME ZONE ${tz})`;
  const rows = await db
    .selectFrom("tracker_rollups as r")
    .innerJoin("publishers as pub", "pub.id", "r.publisher_id")
    .innerJoin("tracker_products as p", "p.id", "r.product_id")
    .select([
      period.as("period"),
      "r.product_id",
      "pub.influencer_id",
      "r.campaign",
      "r.event_type",
      sql<string>`sum(r.counted)::text`.as("counted"),
      sql<string>`sum(r.filtered)::text`.as("filtered"),
      // Over every group, before LIMIT: the totals hold even when the rows are cut.
      sql<string>`(sum(sum(r.counted)) over ())::text`.as("all_counted"),
      sql<string>`(sum(sum(r.filtered)) over ())::text`.as("all_filtered"),
    ])
    .where("r.tenant_id", "=", tenantId)
    .where("p.tenant_id", "=", tenantId)
    .where(sql<boolean>`r.bucket >= ${instant(q.from, tz)}`)
    .where(sql<boolean>`r.bucket < ${instant(q.to, tz)}`)
    .$if(q.customer_id !== undefined, (qb) => qb.where("p.customer_id", "=", q.customer_id as string))
    .$if(q.product_id !== undefined, (qb) => qb.where("r.product_id", "=", q.product_id as string))
    .$if(q.influencer_id !== undefined, (qb) => qb.where("pub.influencer_id", "=", q.influencer_id as string))
    .$if(q.campaign !== undefined, (qb) => qb.where("r.campaign", "=", q.campaign as string))
    .$if(q.event_type !== undefined, (qb) => qb.where("r.event_type", "=", q.event_type as string))
    .groupBy([sql`1`, "r.product_id", "pub.influencer_id", "r.campaign", "r.event_type"])
    .orderBy(sql`1`)
    .orderBy("pub.influencer_id")
    .orderBy("r.campaign")
    .orderBy("r.event_type")
    .limit(maxRows + 1)
    .execute();
  const truncated = rows.length > maxRows;
  if (truncated) rows.length = maxRows;
  const totals = {
    counted: Number(rows[0]?.all_counted ?? 0),
    filtered: Number(rows[0]?.all_filtered ?? 0),
  };
  const out = rows.map((r) => {
    const counted = Number(r.counted);
    const filtered = Number(r.filtered);
    return {
      period: new Date(r.period).toISOString(),
      product_id: r.product_id,
      influencer_id: r.influencer_id ?? "",
      campaign: r.campaign === "" ? null : r.campaign,
      event_type: r.event_type === "" ? null : r.event_type,
      counted,
      filtered,
    };
  });
  return { rows: out, totals, truncated };
}
