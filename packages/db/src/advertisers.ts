// Advertisers, always seen through a network (tenant): create with a first link-signing secret,
// list, read, update and delete only within the caller's network.

import {
  type Advertiser,
  ApiError,
  type CreateAdvertiserInput,
  type ListAdvertisersInput,
  newId,
  type UpdateAdvertiserInput,
} from "@afftrack/core";
import type { Kysely } from "kysely";
import { deleteAccountOrThrow } from "./accounts";
import { createCurrentSecret } from "./link-secrets";
import { escapeLike, type Page, paginate } from "./pagination";
import type { Database } from "./schema";
import { type CallerScope, roleForbidden } from "./scope";

const COLUMNS = [
  "id",
  "name",
  "status",
  "require_strong_signature",
  "postback_ip_allowlist",
  "created_at",
] as const;

interface AdvertiserRow {
  id: string;
  name: string;
  status: "active" | "suspended";
  require_strong_signature: boolean;
  postback_ip_allowlist: string[];
  created_at: Date;
}

function toAdvertiser(row: AdvertiserRow): Advertiser {
  return { ...row, created_at: row.created_at.toISOString() };
}

export function advertiserNotFound(): ApiError {
  return new ApiError("NOT_FOUND", "Advertiser not found");
}

/**
 * The advertiser an advertiser-side action applies to: an advertiser user's own (asking for
 * another one is "not found"), or, for a network admin, the one named, which must be in their
 * network. Publishers are refused before anything is looked up.
 */
export async function advertiserScopeOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  requested: string | undefined,
): Promise<string> {
  if (caller.role === "publisher") throw roleForbidden();
  if (caller.role === "advertiser") {
    if (requested !== undefined && requested !== caller.advertiser_id) throw advertiserNotFound();
    return caller.advertiser_id as string;
  }
  if (requested === undefined)
    throw new ApiError("INVALID_PARAMS", 'Missing parameter "advertiser_id" (required for a network admin)');
  const row = await db
    .selectFrom("advertisers")
    .select("id")
    .where("id", "=", requested)
    .where("tenant_id", "=", caller.tenant_id)
    .executeTakeFirst();
  if (!row) throw advertiserNotFound();
  return row.id;
}

export async function createAdvertiser(
  db: Kysely<Database>,
  tenantId: string,
  input: CreateAdvertiserInput,
): Promise<Advertiser> {
  const id = newId("adv");
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .insertInto("advertisers")
      .values({ id, tenant_id: tenantId, ...input })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    await createCurrentSecret(tx, { tenant_id: tenantId, advertiser_id: id });
    return toAdvertiser(row);
  });
}

export function listAdvertisers(
  db: Kysely<Database>,
  tenantId: string,
  query: ListAdvertisersInput,
): Promise<Page<Advertiser>> {
  const { status, q } = query;
  return paginate(
    db
      .selectFrom("advertisers")
      .select(COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(status !== undefined, (qb) => qb.where("status", "=", status as "active"))
      .$if(q !== undefined, (qb) => qb.where("name", "ilike", `%${escapeLike(q as string)}%`)),
    "advertisers",
    query,
    toAdvertiser,
  );
}

/** The advertiser if it is in the network; NOT_FOUND otherwise (same answer as a made-up id). */
export async function getAdvertiserOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<Advertiser> {
  const row = await db
    .selectFrom("advertisers")
    .select(COLUMNS)
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (!row) throw advertiserNotFound();
  return toAdvertiser(row);
}

export async function updateAdvertiserOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  input: UpdateAdvertiserInput,
): Promise<Advertiser> {
  const row = await db
    .updateTable("advertisers")
    .set(input)
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .returning(COLUMNS)
    .executeTakeFirst();
  if (!row) throw advertiserNotFound();
  return toAdvertiser(row);
}

/** Deletes a advertiser without history (see deleteAccountOrThrow); CONFLICT otherwise. */
export function deleteAdvertiserOrThrow(db: Kysely<Database>, tenantId: string, id: string): Promise<void> {
  return deleteAccountOrThrow(db, "advertiser", tenantId, id);
}
