// Webhook endpoints and publisher postback URLs (one table, `kind` tells them apart), their signing
// secrets, and the delivery log. Management lookups are scoped by the caller: their network, and
// for advertiser and publisher users only their own endpoints (404 for anyone else's). The delivery
// side (fan-out, claim, record) is used by the `webhooks` queue consumer only.

import {
  ApiError,
  type CreatePostbackUrlInput,
  type CreateWebhookInput,
  type FraudFact,
  generateWebhookSecret,
  type ListDeliveriesInput,
  openSecret,
  type PostbackUrl,
  randomBase62,
  type SecretKeyring,
  sealSecret,
  type UpdatePostbackUrlInput,
  type UpdateWebhookInput,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "@afftrack/core";
import { type Kysely, type Selectable, sql } from "kysely";
import { type Page, type PageRequest, paginate } from "./pagination";
import type { Database, WebhookEndpointsTable } from "./schema";
import { type CallerScope, roleForbidden } from "./scope";

export type EndpointKind = "webhook" | "postback";
export type EndpointRow = Selectable<WebhookEndpointsTable>;

const NOUN: Record<EndpointKind, string> = { webhook: "Webhook endpoint", postback: "Postback URL" };

function notFound(kind: EndpointKind): ApiError {
  return new ApiError("NOT_FOUND", `${NOUN[kind]} not found`);
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function baseView(row: EndpointRow) {
  return {
    id: row.id,
    owner_type: row.owner_type,
    advertiser_id: row.advertiser_id,
    publisher_id: row.publisher_id,
    url: row.url,
    offer_id: row.offer_id,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    failing_since: iso(row.failing_since),
    description: row.description,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function toWebhookEndpoint(row: EndpointRow): WebhookEndpoint {
  return { ...baseView(row), events: row.events };
}

export function toPostbackUrl(row: EndpointRow): PostbackUrl {
  return { ...baseView(row), method: row.method, statuses: row.statuses, fire_on: row.fire_on };
}

/** The owner an endpoint is created for: the caller's own account, or the one an admin names. */
async function ownerOf(
  db: Kysely<Database>,
  caller: CallerScope,
  kind: EndpointKind,
  named: { advertiser_id?: string | undefined; publisher_id?: string | undefined },
): Promise<{
  owner_type: "advertiser" | "publisher";
  advertiser_id: string | null;
  publisher_id: string | null;
}> {
  // Advertiser and publisher users act for themselves: naming anyone else finds no one.
  if (caller.role === "advertiser") {
    if (kind === "postback" || named.publisher_id !== undefined) throw roleForbidden();
    if (named.advertiser_id !== undefined && named.advertiser_id !== caller.advertiser_id) {
      throw new ApiError("NOT_FOUND", "Advertiser not found");
    }
    return { owner_type: "advertiser", advertiser_id: caller.advertiser_id as string, publisher_id: null };
  }
  if (caller.role === "publisher") {
    if (named.advertiser_id !== undefined) throw roleForbidden();
    if (named.publisher_id !== undefined && named.publisher_id !== caller.publisher_id) {
      throw new ApiError("NOT_FOUND", "Publisher not found");
    }
    return { owner_type: "publisher", advertiser_id: null, publisher_id: caller.publisher_id as string };
  }
  const { advertiser_id, publisher_id } = named;
  if (
    (advertiser_id === undefined) === (publisher_id === undefined) ||
    (kind === "postback" && !publisher_id)
  ) {
    throw new ApiError(
      "INVALID_PARAMS",
      kind === "postback"
        ? 'Invalid parameter "publisher_id": a network admin names the publisher'
        : 'Invalid parameter "advertiser_id": a network admin names exactly one of advertiser_id and publisher_id',
    );
  }
  if (advertiser_id) {
    const found = await db
      .selectFrom("advertisers")
      .select("id")
      .where("id", "=", advertiser_id)
      .where("tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (!found) throw new ApiError("NOT_FOUND", "Advertiser not found");
    return { owner_type: "advertiser", advertiser_id, publisher_id: null };
  }
  const found = await db
    .selectFrom("publishers")
    .select("id")
    .where("id", "=", publisher_id as string)
    .where("tenant_id", "=", caller.tenant_id)
    .executeTakeFirst();
  if (!found) throw new ApiError("NOT_FOUND", "Publisher not found");
  return { owner_type: "publisher", advertiser_id: null, publisher_id: publisher_id as string };
}

/** An offer scope must be an offer of the network, and of the advertiser for an advertiser's endpoint. */
async function assertOfferInScope(
  db: Kysely<Database>,
  tenantId: string,
  advertiserId: string | null,
  offerId: string | null | undefined,
): Promise<void> {
  if (!offerId) return;
  const found = await db
    .selectFrom("offers")
    .select("id")
    .where("id", "=", offerId)
    .where("tenant_id", "=", tenantId)
    .$if(advertiserId !== null, (qb) => qb.where("advertiser_id", "=", advertiserId as string))
    .executeTakeFirst();
  if (!found) throw new ApiError("NOT_FOUND", "Offer not found");
}

export interface CreatedEndpoint {
  row: EndpointRow;
  /** The whsec_ secret: returned once, then only used to sign. */
  secret: string;
}

export async function createEndpoint(
  db: Kysely<Database>,
  caller: CallerScope,
  kind: EndpointKind,
  input: CreateWebhookInput | CreatePostbackUrlInput,
  /** Seals the secret at rest; null stores it in clear (only tests of the plaintext rows do). */
  ring: SecretKeyring | null,
): Promise<CreatedEndpoint> {
  const owner = await ownerOf(db, caller, kind, {
    advertiser_id: "advertiser_id" in input ? input.advertiser_id : undefined,
    publisher_id: input.publisher_id,
  });
  await assertOfferInScope(db, caller.tenant_id, owner.advertiser_id, input.offer_id);
  const secret = generateWebhookSecret();
  const id = `whe_${randomBase62(16)}`;
  const stored = ring ? await sealSecret(ring, id, secret) : { key_id: null, secret };
  const row = await db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto("webhook_endpoints")
      .values({
        id,
        tenant_id: caller.tenant_id,
        kind,
        ...owner,
        url: input.url,
        description: input.description ?? null,
        offer_id: input.offer_id ?? null,
        enabled: input.enabled ?? true,
        disabled_reason: input.enabled === false ? "manual" : null,
        ...("events" in input ? { events: input.events } : {}),
        ...("statuses" in input
          ? { statuses: input.statuses, fire_on: input.fire_on, method: input.method }
          : {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await tx
      .insertInto("webhook_secrets")
      .values({ id: `whs_${randomBase62(16)}`, tenant_id: caller.tenant_id, endpoint_id: id, ...stored })
      .execute();
    return inserted;
  });
  return { row, secret };
}

/** The endpoint when the caller may manage it (not deleted), NOT_FOUND otherwise. */
export async function getEndpointOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  kind: EndpointKind,
  id: string,
): Promise<EndpointRow> {
  if (kind === "postback" && caller.role === "advertiser") throw roleForbidden();
  const row = await db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("id", "=", id)
    .where("kind", "=", kind)
    .where("tenant_id", "=", caller.tenant_id)
    .where("deleted_at", "is", null)
    .$if(caller.role === "advertiser", (qb) => qb.where("advertiser_id", "=", caller.advertiser_id as string))
    .$if(caller.role === "publisher", (qb) => qb.where("publisher_id", "=", caller.publisher_id as string))
    .executeTakeFirst();
  if (!row) throw notFound(kind);
  return row;
}

export function listEndpoints(
  db: Kysely<Database>,
  caller: CallerScope,
  kind: EndpointKind,
  page: PageRequest,
): Promise<Page<EndpointRow>> {
  if (kind === "postback" && caller.role === "advertiser") throw roleForbidden();
  return paginate(
    db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("kind", "=", kind)
      .where("tenant_id", "=", caller.tenant_id)
      .where("deleted_at", "is", null)
      .$if(caller.role === "advertiser", (qb) =>
        qb.where("advertiser_id", "=", caller.advertiser_id as string),
      )
      .$if(caller.role === "publisher", (qb) => qb.where("publisher_id", "=", caller.publisher_id as string)),
    "webhook_endpoints",
    page,
    (row) => row,
  );
}

export async function updateEndpointOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  kind: EndpointKind,
  id: string,
  input: UpdateWebhookInput | UpdatePostbackUrlInput,
): Promise<EndpointRow> {
  const current = await getEndpointOrThrow(db, caller, kind, id);
  await assertOfferInScope(db, caller.tenant_id, current.advertiser_id, input.offer_id);
  const { enabled, ...rest } = input;
  const row = await db
    .updateTable("webhook_endpoints")
    .set({
      ...rest,
      ...(enabled === true ? { enabled: true, disabled_reason: null, failing_since: null } : {}),
      ...(enabled === false ? { enabled: false, disabled_reason: "manual" } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return row;
}

/** Deletes for the caller: the endpoint stops receiving at once; its log stays for the network. */
export async function deleteEndpointOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  kind: EndpointKind,
  id: string,
): Promise<EndpointRow> {
  const current = await getEndpointOrThrow(db, caller, kind, id);
  return db
    .updateTable("webhook_endpoints")
    .set({ deleted_at: sql<Date>`now()`, enabled: false, updated_at: sql<Date>`now()` })
    .where("id", "=", current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * A new secret, used at once; the older active secrets keep signing too until `overlapSeconds`
 * from now (never longer than they already had), so receivers switch without rejecting anything.
 */
export async function rotateEndpointSecret(
  db: Kysely<Database>,
  endpoint: { id: string; tenant_id: string },
  overlapSeconds: number,
  ring: SecretKeyring | null,
): Promise<{ secret: string; previous_secrets_expire_at: string | null }> {
  const overlap = Math.max(0, Math.trunc(overlapSeconds));
  const secret = generateWebhookSecret();
  const stored = ring ? await sealSecret(ring, endpoint.id, secret) : { key_id: null, secret };
  return db.transaction().execute(async (tx) => {
    const expired = await tx
      .updateTable("webhook_secrets")
      .set({
        expires_at: sql<Date>`LEAST(COALESCE(expires_at, 'infinity'::timestamptz), now() + make_interval(secs => ${overlap}))`,
      })
      .where("endpoint_id", "=", endpoint.id)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
      .returning("expires_at")
      .execute();
    await tx
      .insertInto("webhook_secrets")
      .values({
        id: `whs_${randomBase62(16)}`,
        tenant_id: endpoint.tenant_id,
        endpoint_id: endpoint.id,
        ...stored,
      })
      .execute();
    const latest = expired
      .map((r) => r.expires_at)
      .filter((d): d is Date => d !== null && d.getTime() > Date.now())
      .sort((a, b) => b.getTime() - a.getTime())[0];
    return { secret, previous_secrets_expire_at: latest?.toISOString() ?? null };
  });
}

/** The endpoint's active secrets, newest first (the first signs the seed's body `signature`). */
export async function activeSecrets(
  db: Kysely<Database>,
  endpointId: string,
  ring: SecretKeyring | null,
): Promise<string[]> {
  const rows = await db
    .selectFrom("webhook_secrets")
    .select(["secret", "key_id"])
    .where("endpoint_id", "=", endpointId)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .execute();
  return openAll(ring, endpointId, rows);
}

/** Opens stored secrets (plaintext rows as they are); a sealed row needs the keyring. */
function openAll(
  ring: SecretKeyring | null,
  endpointId: string,
  rows: { secret: string; key_id: string | null }[],
): Promise<string[]> {
  return Promise.all(
    rows.map((r) => {
      if (r.key_id === null) return r.secret;
      if (!ring) throw new Error("WEBHOOK_SECRETS_KEY is needed to open webhook secrets");
      return openSecret(ring, endpointId, r);
    }),
  );
}

/**
 * Seals every secret still in clear (rows from before 012) and re-seals those under a key other
 * than the current one (a key rotation), at most `limit` per call; returns how many it rewrote.
 * Each row is compare-and-set on its old value, so a concurrent rotation is never overwritten.
 */
export async function resealWebhookSecrets(
  db: Kysely<Database>,
  ring: SecretKeyring,
  limit = 500,
): Promise<number> {
  const rows = await db
    .selectFrom("webhook_secrets")
    .select(["id", "endpoint_id", "secret", "key_id"])
    .where((eb) => eb.or([eb("key_id", "is", null), eb("key_id", "<>", ring.current)]))
    .limit(limit)
    .execute();
  let done = 0;
  for (const r of rows) {
    const [plain] = await openAll(ring, r.endpoint_id, [r]);
    const sealed = await sealSecret(ring, r.endpoint_id, plain as string);
    const res = await db
      .updateTable("webhook_secrets")
      .set(sealed)
      .where("id", "=", r.id)
      .where("secret", "=", r.secret)
      .executeTakeFirst();
    done += Number(res.numUpdatedRows);
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// Fan-out: who hears about a conversion

export interface ConversionFact {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  offer_id: string;
  publisher_id: string | null;
  transaction_id: string;
  event_type: string;
  click_id: string | null;
  status: string;
  amount: string;
  currency: string;
  payout: string;
  payout_currency: string;
  created_at: Date;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  /** Whether this is its click's first conversion (postbacks fired on `first` only). */
  first_of_click: boolean;
  /** The click's verdict as the conversion recorded it, and the click's fraud rule flags. */
  click_verdict: string | null;
  click_flags: string[];
  /** Fraud events this conversion's own rules wrote (conversion_too_fast / _slow). */
  fraud_kinds: string[];
}

export async function loadConversionFact(
  db: Kysely<Database>,
  conversionId: string,
): Promise<ConversionFact | null> {
  const result = await sql<ConversionFact>`
    SELECT c.id, c.tenant_id, c.advertiser_id, c.offer_id, c.publisher_id, c.transaction_id, c.event_type,
      c.click_id, c.status, c.amount::text AS amount, trim(c.currency) AS currency, c.payout::text AS payout,
      trim(c.payout_currency) AS payout_currency, c.created_at, k.sub1, k.sub2, k.sub3, k.sub4, k.sub5,
      (c.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM conversions o WHERE o.click_id = c.click_id
        AND (o.created_at, o.id) < (c.created_at, c.id))) AS first_of_click,
      c.click_verdict, coalesce(k.flags, '{}') AS click_flags,
      ARRAY(SELECT f.kind FROM fraud_events f WHERE c.click_id IS NOT NULL AND f.click_id = c.click_id
        AND f.detail->>'conversion_id' = c.id ORDER BY f.kind) AS fraud_kinds
    FROM conversions c LEFT JOIN clicks k ON k.click_id = c.click_id
    WHERE c.id = ${conversionId}
  `.execute(db);
  return result.rows[0] ?? null;
}

/** loadConversionFact for many conversions in one statement, by id (absent ids are not found). */
export async function loadConversionFacts(
  db: Kysely<Database>,
  conversionIds: readonly string[],
): Promise<Map<string, ConversionFact>> {
  if (conversionIds.length === 0) return new Map();
  const result = await sql<ConversionFact>`
    SELECT c.id, c.tenant_id, c.advertiser_id, c.offer_id, c.publisher_id, c.transaction_id, c.event_type,
      c.click_id, c.status, c.amount::text AS amount, trim(c.currency) AS currency, c.payout::text AS payout,
      trim(c.payout_currency) AS payout_currency, c.created_at, k.sub1, k.sub2, k.sub3, k.sub4, k.sub5,
      (c.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM conversions o WHERE o.click_id = c.click_id
        AND (o.created_at, o.id) < (c.created_at, c.id))) AS first_of_click,
      c.click_verdict, coalesce(k.flags, '{}') AS click_flags,
      ARRAY(SELECT f.kind FROM fraud_events f WHERE c.click_id IS NOT NULL AND f.click_id = c.click_id
        AND f.detail->>'conversion_id' = c.id ORDER BY f.kind) AS fraud_kinds
    FROM conversions c LEFT JOIN clicks k ON k.click_id = c.click_id
    WHERE c.id = ANY(${[...new Set(conversionIds)]}::text[])
  `.execute(db);
  return new Map(result.rows.map((r) => [r.id, r]));
}

type EndpointTarget = Pick<ConversionFact, "tenant_id" | "advertiser_id" | "publisher_id" | "offer_id">;

/** Whether endpoint e hears about conversion c: endpointsForConversion's condition. */
export function endpointHearsConversion(e: EndpointRow, c: EndpointTarget): boolean {
  return (
    e.tenant_id === c.tenant_id &&
    e.enabled &&
    e.deleted_at === null &&
    ((e.kind === "webhook" && e.advertiser_id === c.advertiser_id) ||
      (c.publisher_id !== null && e.publisher_id === c.publisher_id)) &&
    (e.offer_id === null || e.offer_id === c.offer_id)
  );
}

/**
 * endpointsForConversion for many conversions in one statement: every endpoint any of them may
 * reach; pick each conversion's with endpointHearsConversion.
 */
export function endpointsForConversions(
  db: Kysely<Database>,
  cs: readonly EndpointTarget[],
): Promise<EndpointRow[]> {
  if (cs.length === 0) return Promise.resolve([]);
  const unique = (xs: Array<string | null>) => [...new Set(xs.filter((x): x is string => x !== null))];
  const publishers = unique(cs.map((c) => c.publisher_id));
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("tenant_id", "in", unique(cs.map((c) => c.tenant_id)))
    .where("enabled", "=", true)
    .where("deleted_at", "is", null)
    .where((eb) =>
      eb.or([
        eb.and([
          eb("kind", "=", "webhook"),
          eb("advertiser_id", "in", unique(cs.map((c) => c.advertiser_id))),
        ]),
        ...(publishers.length > 0 ? [eb("publisher_id", "in", publishers)] : []),
      ]),
    )
    .execute();
}

/** Enabled endpoints that hear about this conversion: the advertiser's, and its publisher's. */
export function endpointsForConversion(
  db: Kysely<Database>,
  c: Pick<ConversionFact, "tenant_id" | "advertiser_id" | "publisher_id" | "offer_id">,
): Promise<EndpointRow[]> {
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("tenant_id", "=", c.tenant_id)
    .where("enabled", "=", true)
    .where("deleted_at", "is", null)
    .where((eb) =>
      eb.or([
        eb.and([eb("kind", "=", "webhook"), eb("advertiser_id", "=", c.advertiser_id)]),
        ...(c.publisher_id ? [eb("publisher_id", "=", c.publisher_id)] : []),
      ]),
    )
    .where((eb) => eb.or([eb("offer_id", "is", null), eb("offer_id", "=", c.offer_id)]))
    .execute();
}

/** The owner's other enabled webhook endpoints (for `endpoint.disabled`). */
export function otherEndpointsOfOwner(db: Kysely<Database>, endpoint: EndpointRow): Promise<EndpointRow[]> {
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("tenant_id", "=", endpoint.tenant_id)
    .where("kind", "=", "webhook")
    .where("enabled", "=", true)
    .where("deleted_at", "is", null)
    .where("id", "<>", endpoint.id)
    .$if(endpoint.advertiser_id !== null, (qb) =>
      qb.where("advertiser_id", "=", endpoint.advertiser_id as string),
    )
    .$if(endpoint.publisher_id !== null, (qb) =>
      qb.where("publisher_id", "=", endpoint.publisher_id as string),
    )
    .execute();
}

/**
 * Enabled webhook endpoints subscribed to `fraud.detected` that may hear about any of these
 * facts: their advertiser's, and for their own traffic their publisher's. The caller matches each
 * fact to its endpoints (`fraudFactReaches`).
 */
export async function endpointsForFraud(
  db: Kysely<Database>,
  facts: readonly FraudFact[],
): Promise<EndpointRow[]> {
  if (facts.length === 0) return [];
  const tenants = [...new Set(facts.map((f) => f.tenant_id))];
  const advertisers = [...new Set(facts.map((f) => f.advertiser_id))];
  const publishers = [...new Set(facts.flatMap((f) => (f.publisher_id ? [f.publisher_id] : [])))];
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("tenant_id", "in", tenants)
    .where("kind", "=", "webhook")
    .where("enabled", "=", true)
    .where("deleted_at", "is", null)
    .where(sql<boolean>`'fraud.detected' = ANY(events)`)
    .where((eb) =>
      eb.or([
        eb("advertiser_id", "in", advertisers),
        ...(publishers.length > 0 ? [eb("publisher_id", "in", publishers)] : []),
      ]),
    )
    .execute();
}

/** Whether the endpoint hears about this fraud event (same tenant, owner and offer scope). */
export function fraudFactReaches(e: EndpointRow, f: FraudFact): boolean {
  if (e.tenant_id !== f.tenant_id) return false;
  if (e.offer_id !== null && e.offer_id !== f.offer_id) return false;
  return e.owner_type === "advertiser"
    ? e.advertiser_id === f.advertiser_id
    : e.publisher_id === f.publisher_id;
}

export interface NewDelivery {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  conversion_id: string | null;
  payload: string;
  request_method: string;
  request_url: string;
}

/**
 * Inserts the deliveries that do not exist yet (their id is derived from event × endpoint, so a
 * redelivered event inserts nothing) and returns the ids of those still waiting for a first attempt.
 */
export async function insertDeliveries(db: Kysely<Database>, rows: NewDelivery[]): Promise<string[]> {
  if (rows.length === 0) return [];
  // One statement: the insert (a CTE) and the rows that were already there, still unattempted
  // (a redelivered fact whose first attempts were never made).
  const result = await sql<{ id: string }>`
    WITH v AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(id text, tenant_id text,
        endpoint_id text, event_id text, event_type text, conversion_id text, payload text,
        request_method text, request_url text)
    ), ins AS (
      INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, conversion_id, payload,
        request_method, request_url, next_attempt_at)
      SELECT id, tenant_id, endpoint_id, event_id, event_type, conversion_id, payload, request_method,
        request_url, now() FROM v
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    )
    SELECT id FROM ins
    UNION
    SELECT d.id FROM webhook_deliveries d JOIN v ON v.id = d.id WHERE d.status = 'pending' AND d.attempt_count = 0
  `.execute(db);
  return result.rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Attempts

export interface ClaimedDelivery {
  delivery: {
    id: string;
    tenant_id: string;
    event_id: string;
    event_type: string;
    payload: string;
    request_method: string;
    request_url: string;
    /** The number of this attempt (1 for the first). */
    attempt: number;
  };
  /** What an attempt needs of its endpoint, read in the same statement as the claim. */
  endpoint: { id: string; kind: EndpointKind; enabled: boolean; deleted: boolean; failing: boolean };
  /** Active secrets, newest first. */
  secrets: string[];
  /**
   * Set when the endpoint's secrets do not open (sealed under a key no longer in the keyring): this
   * attempt cannot be signed and fails alone, logged and retried on the schedule; the batch's other
   * deliveries go on.
   */
  secretError?: string;
}

export type ClaimResult =
  | { kind: "claimed"; claim: ClaimedDelivery }
  /** Another worker is attempting it right now: look again after its lease. */
  | { kind: "busy" }
  /** Done, failed, or already past this attempt (a duplicate message). */
  | { kind: "stale" };

interface ClaimRow {
  want_id: string;
  expected: number;
  old_status: string | null;
  old_count: number | null;
  id: string | null;
  tenant_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  request_method: string;
  request_url: string;
  attempt_count: number;
  endpoint_id: string;
  kind: EndpointKind;
  enabled: boolean;
  deleted: boolean;
  failing: boolean;
  secrets: { secret: string; key_id: string | null }[] | null;
}

/**
 * Takes attempt `expected + 1` of each delivery for `leaseSeconds`, with its endpoint's state and
 * active secrets (opened with `ring`), in ONE statement for the whole list: only one worker gets
 * each, and a duplicate message for an attempt already made finds nothing to do. Results are
 * keyed by delivery id.
 */
export async function claimDeliveries(
  db: Kysely<Database>,
  wanted: readonly { delivery_id: string; attempt: number }[],
  leaseSeconds: number,
  ring: SecretKeyring | null,
): Promise<Map<string, ClaimResult>> {
  const out = new Map<string, ClaimResult>();
  if (wanted.length === 0) return out;
  // The outer SELECT reads the table as it was before the UPDATE (one snapshot): a row not
  // claimed that was pending at the expected attempt is someone else's right now (busy).
  const result = await sql<ClaimRow>`
    WITH want AS (
      SELECT DISTINCT ON (id) id, expected
      FROM unnest(${wanted.map((w) => w.delivery_id)}::text[], ${wanted.map((w) => w.attempt)}::int[]) AS w(id, expected)
    ), claimed AS (
      UPDATE webhook_deliveries d SET attempt_count = d.attempt_count + 1,
        locked_until = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
      FROM want w
      WHERE d.id = w.id AND d.status = 'pending' AND d.attempt_count = w.expected
        AND (d.locked_until IS NULL OR d.locked_until < now())
      RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.request_method,
        d.request_url, d.attempt_count
    )
    SELECT w.id AS want_id, w.expected, d.status AS old_status, d.attempt_count AS old_count,
      c.id, c.tenant_id, c.endpoint_id, c.event_id, c.event_type, c.payload, c.request_method, c.request_url,
      c.attempt_count, e.kind, e.enabled, e.deleted_at IS NOT NULL AS deleted,
      e.failing_since IS NOT NULL AS failing,
      (SELECT coalesce(json_agg(json_build_object('secret', s.secret, 'key_id', s.key_id)
          ORDER BY s.created_at DESC, s.id DESC), '[]'::json)
        FROM webhook_secrets s WHERE s.endpoint_id = c.endpoint_id
          AND (s.expires_at IS NULL OR s.expires_at > now())) AS secrets
    FROM want w
    LEFT JOIN webhook_deliveries d ON d.id = w.id
    LEFT JOIN claimed c ON c.id = w.id
    LEFT JOIN webhook_endpoints e ON e.id = c.endpoint_id
  `.execute(db);
  for (const row of result.rows) {
    if (row.id === null) {
      const busy = row.old_status === "pending" && row.old_count === row.expected;
      out.set(row.want_id, busy ? { kind: "busy" } : { kind: "stale" });
      continue;
    }
    let secrets: string[] = [];
    let secretError: string | undefined;
    try {
      secrets = await openAll(ring, row.endpoint_id, row.secrets ?? []);
    } catch (error) {
      secretError = String((error as Error)?.message ?? error).slice(0, 200);
    }
    out.set(row.want_id, {
      kind: "claimed",
      claim: {
        delivery: {
          id: row.id,
          tenant_id: row.tenant_id,
          event_id: row.event_id,
          event_type: row.event_type,
          payload: row.payload,
          request_method: row.request_method,
          request_url: row.request_url,
          attempt: row.attempt_count,
        },
        endpoint: {
          id: row.endpoint_id,
          kind: row.kind,
          enabled: row.enabled,
          deleted: row.deleted,
          failing: row.failing,
        },
        secrets,
        ...(secretError === undefined ? {} : { secretError }),
      },
    });
  }
  return out;
}

export interface AttemptRecord {
  tenant_id: string;
  delivery_id: string;
  attempt: number;
  trigger: "scheduled" | "resend" | "recover";
  request_method: string;
  request_url: string;
  request_headers: Record<string, string>;
  request_body: string | null;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  latency_ms: number;
  /** Set when another attempt is scheduled; null when the delivery is finished. */
  next_attempt_at: Date | null;
  outcome: "succeeded" | "retry" | "failed";
}

/** Appends the attempts to the log and moves their deliveries on, all in one statement. */
export async function recordAttempts(db: Kysely<Database>, list: readonly AttemptRecord[]): Promise<void> {
  if (list.length === 0) return;
  const rows = list.map((a) => ({
    ...a,
    status: a.outcome === "retry" ? "pending" : a.outcome,
    next_attempt_at: a.next_attempt_at?.toISOString() ?? null,
  }));
  await sql`
    WITH v AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(tenant_id text, delivery_id text,
        attempt int, trigger text, request_method text, request_url text, request_headers jsonb,
        request_body text, response_status int, response_body text, error text, latency_ms int,
        next_attempt_at timestamptz, status text)
    ), att AS (
      INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, trigger, request_method, request_url,
        request_headers, request_body, response_status, response_body, error, latency_ms, next_attempt_at)
      SELECT tenant_id, delivery_id, attempt, trigger, request_method, request_url, request_headers,
        request_body, response_status, response_body, error, latency_ms, next_attempt_at FROM v
      RETURNING delivery_id
    )
    UPDATE webhook_deliveries d SET status = v.status, last_response_status = v.response_status,
      next_attempt_at = v.next_attempt_at, locked_until = NULL, updated_at = now(),
      succeeded_at = CASE WHEN v.status = 'succeeded' THEN now() ELSE d.succeeded_at END
    FROM v WHERE d.id = v.delivery_id AND EXISTS (SELECT 1 FROM att WHERE att.delivery_id = v.delivery_id)
  `.execute(db);
}

/** Ends a delivery without an attempt (its endpoint was disabled or deleted meanwhile). */
export async function abandonDelivery(db: Kysely<Database>, deliveryId: string): Promise<void> {
  await db
    .updateTable("webhook_deliveries")
    .set({
      status: "failed",
      attempt_count: sql<number>`greatest(attempt_count - 1, 0)`,
      next_attempt_at: null,
      locked_until: null,
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", deliveryId)
    .execute();
}

/** A success ends the endpoint's failing streak. */
export async function markEndpointHealthy(db: Kysely<Database>, endpointId: string): Promise<void> {
  await db
    .updateTable("webhook_endpoints")
    .set({ failing_since: null })
    .where("id", "=", endpointId)
    .where("failing_since", "is not", null)
    .execute();
}

/**
 * Records a failure: starts the failing streak, and disables the endpoint when it answered 410
 * (`gone`) or has failed for `disableAfterMs` straight (`failing`). Returns the row when this call
 * disabled it (once: a concurrent failure finds it disabled already).
 */
export async function markEndpointFailing(
  db: Kysely<Database>,
  endpointId: string,
  opts: { gone: boolean; disableAfterMs: number },
): Promise<EndpointRow | null> {
  await db
    .updateTable("webhook_endpoints")
    .set({ failing_since: sql<Date>`now()` })
    .where("id", "=", endpointId)
    .where("failing_since", "is", null)
    .execute();
  const disabled = await db
    .updateTable("webhook_endpoints")
    .set({
      enabled: false,
      disabled_reason: opts.gone ? "gone" : "failing",
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", endpointId)
    .where("enabled", "=", true)
    .$if(!opts.gone, (qb) =>
      qb.where(
        "failing_since",
        "<=",
        sql<Date>`now() - make_interval(secs => ${opts.disableAfterMs / 1000})`,
      ),
    )
    .returningAll()
    .executeTakeFirst();
  return disabled ?? null;
}

// ---------------------------------------------------------------------------------------------
// The delivery log

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  conversion_id: string | null;
  status: "pending" | "succeeded" | "failed";
  attempt_count: number;
  last_response_status: number | null;
  next_attempt_at: Date | null;
  succeeded_at: Date | null;
  created_at: Date;
}

const DELIVERY_COLUMNS = [
  "id",
  "event_id",
  "event_type",
  "conversion_id",
  "status",
  "attempt_count",
  "last_response_status",
  "next_attempt_at",
  "succeeded_at",
  "created_at",
] as const;

/** The endpoint's deliveries, newest first, each with its attempts (oldest first). */
export async function listDeliveries(
  db: Kysely<Database>,
  endpointId: string,
  query: ListDeliveriesInput,
): Promise<Page<WebhookDelivery>> {
  const page = await paginate(
    db
      .selectFrom("webhook_deliveries")
      .select(DELIVERY_COLUMNS)
      .where("endpoint_id", "=", endpointId)
      .$if(query.status !== undefined, (qb) => qb.where("status", "=", query.status as "pending")),
    "webhook_deliveries",
    query,
    (row: DeliveryRow) => row,
  );
  const ids = page.items.map((d) => d.id);
  const attempts =
    ids.length === 0
      ? []
      : await db
          .selectFrom("webhook_attempts")
          .selectAll()
          .where("delivery_id", "in", ids)
          .orderBy("id", "asc")
          .execute();
  return {
    next_cursor: page.next_cursor,
    items: page.items.map((d) => ({
      ...d,
      next_attempt_at: iso(d.next_attempt_at),
      succeeded_at: iso(d.succeeded_at),
      created_at: d.created_at.toISOString(),
      attempts: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          attempt: a.attempt,
          trigger: a.trigger,
          request_method: a.request_method,
          request_url: a.request_url,
          request_headers: a.request_headers,
          request_body: a.request_body,
          response_status: a.response_status,
          response_body: a.response_body,
          error: a.error,
          latency_ms: a.latency_ms,
          next_attempt_at: iso(a.next_attempt_at),
          created_at: a.created_at.toISOString(),
        })),
    })),
  };
}

/**
 * Puts a finished delivery back for one more attempt (resend). Returns its attempt count (what
 * the queued message expects), or throws: NOT_FOUND for another endpoint's delivery, CONFLICT
 * while it is still being retried.
 */
export async function reopenDeliveryOrThrow(
  db: Kysely<Database>,
  endpointId: string,
  deliveryId: string,
): Promise<number> {
  const reopened = await db
    .updateTable("webhook_deliveries")
    .set({ status: "pending", next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where("id", "=", deliveryId)
    .where("endpoint_id", "=", endpointId)
    .where("status", "<>", "pending")
    .returning("attempt_count")
    .executeTakeFirst();
  if (reopened) return reopened.attempt_count;
  const exists = await db
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("id", "=", deliveryId)
    .where("endpoint_id", "=", endpointId)
    .executeTakeFirst();
  if (!exists) throw new ApiError("NOT_FOUND", "Delivery not found");
  throw new ApiError("CONFLICT", "This delivery is still being retried");
}

/** Reopens every delivery of the endpoint that failed since `since`: [id, attempt count] each. */
export async function reopenFailedSince(
  db: Kysely<Database>,
  endpointId: string,
  since: Date,
  limit = 1000,
): Promise<{ id: string; attempt_count: number }[]> {
  return db
    .updateTable("webhook_deliveries")
    .set({ status: "pending", next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where(
      "id",
      "in",
      db
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("endpoint_id", "=", endpointId)
        .where("status", "=", "failed")
        .where("created_at", ">=", since)
        .orderBy("created_at", "asc")
        .limit(limit),
    )
    .returning(["id", "attempt_count"])
    .execute();
}
