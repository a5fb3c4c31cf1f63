// Link-signing secrets per advertiser. Rotation keeps the old secret valid long enough that no
// live link breaks, and new links are signed with a secret only once every edge isolate can know it.

import { DEFAULT_LINK_TTL_SECONDS, newId, randomBase62 } from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema";

/**
 * A new secret reaches Redis at once, but an edge isolate may hold the previous link record for
 * its cache window (15 s by default). Signing with the new secret only after twice that window
 * means a freshly signed link never meets an edge that does not know its secret yet.
 */
export const SECRET_PROPAGATION_SECONDS = 30;

export async function createCurrentSecret(
  db: Kysely<Database>,
  owner: { tenant_id: string; advertiser_id: string },
): Promise<{ id: string; secret: string; created_at: Date }> {
  const row = { id: newId("sec"), secret: randomBase62(40), created_at: new Date() };
  await db
    .insertInto("link_secrets")
    .values({ ...row, tenant_id: owner.tenant_id, advertiser_id: owner.advertiser_id })
    .execute();
  return row;
}

/**
 * The secret to sign a new link with: the newest valid one that is older than the propagation
 * window, else the oldest valid one. Creates one if the advertiser has none.
 */
export async function signingSecret(
  db: Kysely<Database>,
  owner: { tenant_id: string; advertiser_id: string },
): Promise<string> {
  const rows = await db
    .selectFrom("link_secrets")
    .select(["secret", "created_at"])
    .where("advertiser_id", "=", owner.advertiser_id)
    .where("tenant_id", "=", owner.tenant_id)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .orderBy("created_at", "desc")
    .execute();
  const settled = Date.now() - SECRET_PROPAGATION_SECONDS * 1000;
  // Failing that (all rotated within the window), the oldest valid one: the one edges knew first.
  const pick = rows.find((r) => r.created_at.getTime() <= settled) ?? rows[rows.length - 1];
  if (pick) return pick.secret;
  return (await createCurrentSecret(db, owner)).secret;
}

/**
 * Retires the current secret(s) and makes a new one. A retired secret stays valid for the
 * propagation window (during which it still signs) plus the longest link TTL among the
 * advertiser's offers, so every link signed with it lives out its full TTL.
 */
export async function rotateSecret(
  db: Kysely<Database>,
  owner: { tenant_id: string; advertiser_id: string },
): Promise<{ current: { id: string; secret: string; created_at: Date }; retiredUntil: Date }> {
  return db.transaction().execute(async (tx) => {
    // Serialise rotations of one advertiser so two concurrent calls cannot leave two "current" rows.
    await tx
      .selectFrom("advertisers")
      .select("id")
      .where("id", "=", owner.advertiser_id)
      .forUpdate()
      .executeTakeFirst();
    const ttl = await tx
      .selectFrom("offers")
      .select((eb) => eb.fn.max("link_ttl_seconds").as("max_ttl"))
      .where("advertiser_id", "=", owner.advertiser_id)
      .executeTakeFirst();
    const maxTtl = Math.max(Number(ttl?.max_ttl ?? 0), DEFAULT_LINK_TTL_SECONDS);
    const retiredUntil = new Date(Date.now() + (SECRET_PROPAGATION_SECONDS + maxTtl) * 1000);
    await tx
      .updateTable("link_secrets")
      .set({ expires_at: retiredUntil })
      .where("advertiser_id", "=", owner.advertiser_id)
      .where("expires_at", "is", null)
      .execute();
    const current = await createCurrentSecret(tx, owner);
    return { current, retiredUntil };
  });
}
