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
import { deleteAccountOrThrow } from "./accounts";
import { escapeLike, isUniqueViolation, type Page, paginate } from "./pagination";
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

/** Deletes a publisher without history (see deleteAccountOrThrow); CONFLICT otherwise. */
export function deletePublisherOrThrow(db: Kysely<Database>, tenantId: string, id: string): Promise<void> {
  return deleteAccountOrThrow(db, "publisher", tenantId, id);
}
