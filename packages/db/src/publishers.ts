// Publishers (affiliates and influencers), always seen through a network: create, list, read,
// update and delete only within the caller's network. influencer_id is unique per network.

import {
  ApiError,
  type CreatePublisherInput,
  type ListPublishersInput,
  newId,
  type Publisher,
  type UpdatePublisherInput,
} from "@afftrack/core";
import type { Kysely } from "kysely";
import { escapeLike, isForeignKeyViolation, isUniqueViolation, type Page, paginate } from "./pagination";
import type { Database } from "./schema";

const COLUMNS = ["id", "name", "influencer_id", "status", "created_at"] as const;

interface PublisherRow {
  id: string;
  name: string;
  influencer_id: string | null;
  status: "active" | "suspended";
  created_at: Date;
}

function toPublisher(row: PublisherRow): Publisher {
  return { ...row, created_at: row.created_at.toISOString() };
}

export function publisherNotFound(): ApiError {
  return new ApiError("NOT_FOUND", "Publisher not found");
}

/** Runs a write; a second publisher with the same influencer_id in the network is CONFLICT. */
async function uniqueInfluencer<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError("CONFLICT", "influencer_id already used in this network");
    throw err;
  }
}

export function createPublisher(
  db: Kysely<Database>,
  tenantId: string,
  input: CreatePublisherInput,
): Promise<Publisher> {
  return uniqueInfluencer(async () =>
    toPublisher(
      await db
        .insertInto("publishers")
        .values({
          id: newId("pub"),
          tenant_id: tenantId,
          ...input,
          influencer_id: input.influencer_id ?? null,
        })
        .returning(COLUMNS)
        .executeTakeFirstOrThrow(),
    ),
  );
}

export function listPublishers(
  db: Kysely<Database>,
  tenantId: string,
  query: ListPublishersInput,
): Promise<Page<Publisher>> {
  const { status, q } = query;
  return paginate(
    db
      .selectFrom("publishers")
      .select(COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(status !== undefined, (qb) => qb.where("status", "=", status as "active"))
      .$if(q !== undefined, (qb) =>
        qb.where((eb) =>
          eb.or([eb("name", "ilike", `%${escapeLike(q as string)}%`), eb("influencer_id", "=", q as string)]),
        ),
      ),
    "publishers",
    query,
    toPublisher,
  );
}

/** The publisher if it is in the network; NOT_FOUND otherwise (same answer as a made-up id). */
export async function getPublisherOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<Publisher> {
  const row = await db
    .selectFrom("publishers")
    .select(COLUMNS)
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (!row) throw publisherNotFound();
  return toPublisher(row);
}

export function updatePublisherOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  input: UpdatePublisherInput,
): Promise<Publisher> {
  return uniqueInfluencer(async () => {
    const row = await db
      .updateTable("publishers")
      .set(input)
      .where("id", "=", id)
      .where("tenant_id", "=", tenantId)
      .returning(COLUMNS)
      .executeTakeFirst();
    if (!row) throw publisherNotFound();
    return toPublisher(row);
  });
}

/**
 * Deletes a publisher with no tracking links or users (links carry click history: suspend it
 * instead), with its invitations. CONFLICT otherwise.
 */
export async function deletePublisherOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<void> {
  try {
    await db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom("publishers")
        .select("id")
        .where("id", "=", id)
        .where("tenant_id", "=", tenantId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw publisherNotFound();
      const inUse = await tx
        .selectFrom("tracking_links")
        .select("id")
        .where("publisher_id", "=", id)
        .unionAll((eb) => eb.selectFrom("users").select("id").where("publisher_id", "=", id))
        .limit(1)
        .executeTakeFirst();
      if (inUse) throw new ApiError("CONFLICT", "Publisher has tracking links or users; suspend it instead");
      await tx.deleteFrom("invitations").where("publisher_id", "=", id).execute();
      await tx.deleteFrom("publishers").where("id", "=", id).execute();
    });
  } catch (err) {
    if (isForeignKeyViolation(err))
      throw new ApiError("CONFLICT", "Publisher has history elsewhere; suspend it instead");
    throw err;
  }
}
