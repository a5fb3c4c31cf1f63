// Advertiser API keys: issue, authenticate, list, rotate with an overlap window, revoke. Keys are
// stored as SHA-256 hex (only the 10-char prefix is shown); each key also gets a signing secret for
// v2 request signatures, shown once at creation and never sent on requests.

import { ApiError, type ApiKey, type ListApiKeysInput, newId, randomBase62, sha256Hex } from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import { escapeLike, type Page, paginate } from "./pagination";
import type { Database } from "./schema";
import { type CallerScope, roleForbidden } from "./scope";

export const API_KEY_PATTERN = /^ak_[0-9A-Za-z]{40}$/;
export const API_KEY_PREFIX_LENGTH = 10;
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 86_400;

export interface IssuedApiKey {
  id: string;
  /** The key itself: returned once, never stored. */
  key: string;
  prefix: string;
  /** v2 signing secret: returned once; stored because the server must compute the same HMAC. */
  signing_secret: string;
  advertiser_id: string;
  expires_at: Date | null;
}

export interface AuthenticatedApiKey {
  id: string;
  prefix: string;
  tenant_id: string;
  advertiser_id: string;
  signing_secret: string | null;
  require_strong_signature: boolean;
  postback_ip_allowlist: string[];
  expires_at: Date | null;
}

export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

function generateKey(): string {
  return `ak_${randomBase62(40)}`;
}

function generateSigningSecret(): string {
  return `ss_${randomBase62(40)}`;
}

export async function createApiKey(
  db: Kysely<Database>,
  owner: { tenant_id: string; advertiser_id: string },
  opts: { expiresAt?: Date | null } = {},
): Promise<IssuedApiKey> {
  const key = generateKey();
  const issued: IssuedApiKey = {
    id: newId("key"),
    key,
    prefix: key.slice(0, API_KEY_PREFIX_LENGTH),
    signing_secret: generateSigningSecret(),
    advertiser_id: owner.advertiser_id,
    expires_at: opts.expiresAt ?? null,
  };
  await db
    .insertInto("api_keys")
    .values({
      id: issued.id,
      tenant_id: owner.tenant_id,
      advertiser_id: owner.advertiser_id,
      prefix: issued.prefix,
      key_hash: await hashApiKey(key),
      signing_secret: issued.signing_secret,
      expires_at: issued.expires_at,
    })
    .execute();
  return issued;
}

/**
 * The key's owner and signing settings when the key exists, is active, has not expired and its
 * advertiser is active; otherwise null. Touches last_used_at at most once a minute, in the same
 * statement, so authentication stays one round trip.
 */
export async function authenticateApiKey(
  db: Kysely<Database>,
  key: string,
): Promise<AuthenticatedApiKey | null> {
  if (!API_KEY_PATTERN.test(key)) return null;
  const keyHash = await hashApiKey(key);
  const result = await sql<AuthenticatedApiKey>`
    WITH k AS (
      SELECT k.id, k.prefix, k.tenant_id, k.advertiser_id, k.signing_secret, k.expires_at,
        a.require_strong_signature, a.postback_ip_allowlist, k.last_used_at
      FROM api_keys k JOIN advertisers a ON a.id = k.advertiser_id
      WHERE k.key_hash = ${keyHash} AND k.status = 'active' AND a.status = 'active'
        AND (k.expires_at IS NULL OR k.expires_at > now())
    ), touch AS (
      UPDATE api_keys SET last_used_at = now()
      WHERE id = (SELECT id FROM k)
        AND ((SELECT last_used_at FROM k) IS NULL OR (SELECT last_used_at FROM k) < now() - interval '1 minute')
    )
    SELECT id, prefix, tenant_id, advertiser_id, signing_secret, expires_at, require_strong_signature,
      postback_ip_allowlist FROM k
  `.execute(db);
  return result.rows[0] ?? null;
}

/**
 * Issues a new key for the same advertiser and lets the old one live on for `overlapSeconds`
 * (default 24 h), so clients can switch without a window in which neither key works.
 */
export async function rotateApiKey(
  db: Kysely<Database>,
  keyId: string,
  opts: { overlapSeconds?: number } = {},
): Promise<IssuedApiKey | null> {
  const overlap = Math.max(0, Math.trunc(opts.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS));
  return db.transaction().execute(async (tx) => {
    const old = await tx
      .selectFrom("api_keys")
      .select(["id", "tenant_id", "advertiser_id", "expires_at"])
      .where("id", "=", keyId)
      .where("status", "=", "active")
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
      .forUpdate()
      .executeTakeFirst();
    if (!old) return null;
    // Never extend a key that was already due to expire sooner.
    await tx
      .updateTable("api_keys")
      .set({
        expires_at: sql<Date>`LEAST(COALESCE(expires_at, 'infinity'::timestamptz),
          now() + make_interval(secs => ${overlap}))`,
      })
      .where("id", "=", old.id)
      .execute();
    return createApiKey(tx, { tenant_id: old.tenant_id, advertiser_id: old.advertiser_id });
  });
}

/** Revokes at once; returns false when there was no such active key of that advertiser. */
export async function revokeApiKey(
  db: Kysely<Database>,
  keyId: string,
  opts: { advertiserId?: string } = {},
): Promise<boolean> {
  let q = db
    .updateTable("api_keys")
    .set({ status: "revoked" })
    .where("id", "=", keyId)
    .where("status", "=", "active");
  if (opts.advertiserId) q = q.where("advertiser_id", "=", opts.advertiserId);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// ---------------------------------------------------------------------------------------------
// The management API's view: never the hash or the signing secret

const COLUMNS = [
  "id",
  "advertiser_id",
  "prefix",
  "status",
  "expires_at",
  "last_used_at",
  "created_at",
] as const;

interface ApiKeyRow {
  id: string;
  advertiser_id: string;
  prefix: string;
  status: "active" | "revoked";
  expires_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

function toApiKey(row: ApiKeyRow): ApiKey {
  const expired =
    row.status === "active" && row.expires_at !== null && row.expires_at.getTime() <= Date.now();
  return {
    ...row,
    status: expired ? "expired" : row.status,
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * The key when it is in the caller's scope (their network; their own advertiser for advertiser
 * users), NOT_FOUND otherwise. Publishers are refused before anything is looked up.
 */
export async function getApiKeyOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  id: string,
): Promise<ApiKey> {
  if (caller.role === "publisher") throw roleForbidden();
  const row = await db
    .selectFrom("api_keys")
    .select(COLUMNS)
    .where("id", "=", id)
    .where("tenant_id", "=", caller.tenant_id)
    .$if(caller.role === "advertiser", (qb) => qb.where("advertiser_id", "=", caller.advertiser_id as string))
    .executeTakeFirst();
  if (!row) throw new ApiError("NOT_FOUND", "API key not found");
  return toApiKey(row);
}

/** Keys of the network, or of one advertiser when `advertiserId` is given, newest first. */
export function listApiKeys(
  db: Kysely<Database>,
  tenantId: string,
  advertiserId: string | undefined,
  query: ListApiKeysInput,
): Promise<Page<ApiKey>> {
  const { status, prefix } = query;
  const now = new Date();
  return paginate(
    db
      .selectFrom("api_keys")
      .select(COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(advertiserId !== undefined, (qb) => qb.where("advertiser_id", "=", advertiserId as string))
      .$if(status === "revoked", (qb) => qb.where("status", "=", "revoked"))
      .$if(status === "active", (qb) =>
        qb
          .where("status", "=", "active")
          .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)])),
      )
      .$if(status === "expired", (qb) => qb.where("status", "=", "active").where("expires_at", "<=", now))
      .$if(prefix !== undefined, (qb) => qb.where("prefix", "like", `${escapeLike(prefix as string)}%`)),
    "api_keys",
    query,
    toApiKey,
  );
}
