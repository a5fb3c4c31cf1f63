// Link-signing secrets per advertiser. Rotation keeps the old secret valid long enough that no
// live link breaks, and new links are signed with a secret only once every edge isolate can know it.

import {
  DEFAULT_LINK_TTL_SECONDS,
  type LinkSecret,
  MAX_LINK_TTL_SECONDS,
  newId,
  randomBase62,
} from "@afftrack/core";
import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import type { Database } from "./schema";

/**
 * A new secret reaches Redis at once, but an edge isolate may hold the previous link record for
 * its cache window (15 s by default). Signing with the new secret only after twice that window
 * means a freshly signed link never meets an edge that does not know its secret yet.
 */
export const SECRET_PROPAGATION_SECONDS = 30;

/** A secret that still verifies links: the current one, or a retiring one not yet expired. */
export function liveSecret(eb: ExpressionBuilder<Database, "link_secrets">) {
  return eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]);
}

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
    .where(liveSecret)
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
  opts: { retireNow?: boolean } = {},
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
      // Links are accepted for the offer's TTL ceiling (max_link_ttl_seconds, else 24 hours).
      .select(sql<number | null>`max(coalesce(max_link_ttl_seconds, ${MAX_LINK_TTL_SECONDS}))`.as("max_ttl"))
      .where("advertiser_id", "=", owner.advertiser_id)
      .executeTakeFirst();
    const maxTtl = Math.max(Number(ttl?.max_ttl ?? 0), DEFAULT_LINK_TTL_SECONDS);
    if (opts.retireNow) {
      // A leaked secret: every earlier one, retiring ones included, stops verifying now.
      const now = new Date();
      await tx
        .updateTable("link_secrets")
        .set({ expires_at: now })
        .where("advertiser_id", "=", owner.advertiser_id)
        .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
        .execute();
      return { current: await createCurrentSecret(tx, owner), retiredUntil: now };
    }
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

/**
 * After an offer's link TTL grows, its advertiser's retiring secrets must outlive the longer
 * links signed with them: keep each at least the propagation window plus the new TTL.
 */
export async function extendRetiringSecrets(
  db: Kysely<Database>,
  advertiserId: string,
  linkTtlSeconds: number,
): Promise<void> {
  await db
    .updateTable("link_secrets")
    .set({
      expires_at: sql`greatest(expires_at, now() + make_interval(secs => ${SECRET_PROPAGATION_SECONDS + linkTtlSeconds}))`,
    })
    .where("advertiser_id", "=", advertiserId)
    .where("expires_at", ">", sql<Date>`now()`)
    .execute();
}

/** The advertiser's secrets that still verify links, newest first, without the secrets themselves. */
export async function listLiveSecrets(
  db: Kysely<Database>,
  owner: { tenant_id: string; advertiser_id: string },
): Promise<LinkSecret[]> {
  const rows = await db
    .selectFrom("link_secrets")
    .select(["id", "created_at", "expires_at"])
    .where("tenant_id", "=", owner.tenant_id)
    .where("advertiser_id", "=", owner.advertiser_id)
    .where(liveSecret)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    status: r.expires_at === null ? "current" : "retiring",
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at?.toISOString() ?? null,
  }));
}
