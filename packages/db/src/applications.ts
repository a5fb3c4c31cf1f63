// Applications to private offers that accept them, always seen through the caller: a publisher
// applies and sees their own; the offer's advertiser (or a network admin) decides, and approving
// admits the publisher to the offer (allowed_publisher_ids) in the same transaction.

import {
  ApiError,
  type Application,
  type ApplicationDecisionBody,
  type ListApplicationsInput,
  newId,
} from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import type { ApplicationStatus } from "./applications-schema";
import { offerNotFound } from "./offers";
import { type Page, paginate } from "./pagination";
import type { Database } from "./schema";
import { type CallerScope, roleForbidden } from "./scope";

const COLUMNS = [
  "a.id",
  "a.offer_id",
  "o.name as offer_name",
  "o.advertiser_id",
  "a.publisher_id",
  "p.name as publisher_name",
  "a.status",
  "a.message",
  "a.reason",
  "a.created_at",
  "a.decided_at",
] as const;

interface ApplicationRow {
  id: string;
  offer_id: string;
  offer_name: string;
  advertiser_id: string;
  publisher_id: string;
  publisher_name: string;
  status: ApplicationStatus;
  message: string | null;
  reason: string | null;
  created_at: Date;
  decided_at: Date | null;
}

function toApplication(row: ApplicationRow): Application {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    decided_at: row.decided_at ? row.decided_at.toISOString() : null,
  };
}

function applicationNotFound(): ApiError {
  return new ApiError("NOT_FOUND", "Application not found");
}

/** The caller's applications: a publisher's own, an advertiser's offers', a network admin's network's. */
function scoped(db: Kysely<Database>, caller: CallerScope) {
  return db
    .selectFrom("offer_applications as a")
    .innerJoin("offers as o", "o.id", "a.offer_id")
    .innerJoin("publishers as p", "p.id", "a.publisher_id")
    .select(COLUMNS)
    .where("a.tenant_id", "=", caller.tenant_id)
    .$if(caller.role === "advertiser", (qb) =>
      qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
    )
    .$if(caller.role === "publisher", (qb) => qb.where("a.publisher_id", "=", caller.publisher_id as string));
}

export function listApplications(
  db: Kysely<Database>,
  caller: CallerScope,
  query: ListApplicationsInput,
): Promise<Page<Application>> {
  const q = scoped(db, caller)
    .$if(query.status !== undefined, (qb) => qb.where("a.status", "=", query.status as ApplicationStatus))
    .$if(query.offer_id !== undefined, (qb) => qb.where("a.offer_id", "=", query.offer_id as string));
  return paginate(q, "a", query, toApplication);
}

/**
 * A publisher applies to a private offer that accepts applications. Applying again while pending
 * answers the same application (`created: false`); after a rejection it is 409 CONFLICT; an offer
 * already open to them is 409 too (join it); anything they may not see is 404.
 */
export async function applyToOfferOrThrow(
  db: Kysely<Database>,
  caller: CallerScope,
  offerId: string,
  message: string | null | undefined,
): Promise<{ application: Application; created: boolean }> {
  if (caller.role !== "publisher") throw roleForbidden();
  const pub = caller.publisher_id as string;
  return db.transaction().execute(async (tx) => {
    const me = await tx
      .selectFrom("publishers")
      .select("status")
      .where("id", "=", pub)
      .where("tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    // As for joining and signing: a suspended publisher earns nothing, so may not ask to.
    if (me?.status !== "active") throw new ApiError("FORBIDDEN", "Your publisher account is suspended");
    const offer = await tx
      .selectFrom("offers as o")
      .innerJoin("advertisers as adv", "adv.id", "o.advertiser_id")
      .select((eb) => [
        "o.id",
        "o.visibility",
        "o.accepts_applications",
        eb(sql.val(pub), "=", eb.fn.any("o.allowed_publisher_ids")).as("admitted"),
      ])
      .where("o.id", "=", offerId)
      .where("o.tenant_id", "=", caller.tenant_id)
      .where("o.status", "=", "active")
      .where("adv.status", "=", "active")
      .executeTakeFirst();
    const open = offer && (offer.visibility === "public" || Boolean(offer.admitted));
    if (!offer || (!open && !offer.accepts_applications)) throw offerNotFound();
    if (open) throw new ApiError("CONFLICT", "This offer is open to you already: join it");
    const inserted = await tx
      .insertInto("offer_applications")
      .values({
        id: newId("apl"),
        tenant_id: caller.tenant_id,
        offer_id: offer.id,
        publisher_id: pub,
        message: message ?? null,
      })
      .onConflict((oc) => oc.columns(["offer_id", "publisher_id"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) {
      const existing = await tx
        .selectFrom("offer_applications")
        .select(["id", "status"])
        .where("offer_id", "=", offer.id)
        .where("publisher_id", "=", pub)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (existing.status === "rejected") {
        throw new ApiError("CONFLICT", "Your application to this offer was rejected");
      }
      if (existing.status === "approved") {
        // Admitted once and removed from the offer since: a new application, decided anew.
        await tx
          .updateTable("offer_applications")
          .set({
            status: "pending",
            message: message ?? null,
            reason: null,
            decided_by: null,
            decided_at: null,
            created_at: new Date(),
          })
          .where("id", "=", existing.id)
          .execute();
      }
      const row = await scoped(tx, caller).where("a.id", "=", existing.id).executeTakeFirstOrThrow();
      return { application: toApplication(row), created: existing.status === "approved" };
    }
    const row = await scoped(tx, caller).where("a.id", "=", inserted.id).executeTakeFirstOrThrow();
    return { application: toApplication(row), created: true };
  });
}

export type ApplicationDecision =
  | { kind: "unchanged"; application: Application }
  | { kind: "changed"; application: Application; admitted: boolean };

/**
 * The offer's advertiser or a network admin decides a pending application: approved adds the
 * publisher to the offer's allowed_publisher_ids (the caller then syncs the offer's link records),
 * rejected leaves the offer as it is. Deciding it the same way again changes nothing; any other
 * change of a decided application is 409 CONFLICT. Publishers are refused; others' are 404.
 */
export async function decideApplicationOrThrow(
  db: Kysely<Database>,
  caller: CallerScope & { user_id?: string },
  id: string,
  decision: ApplicationDecisionBody,
): Promise<ApplicationDecision> {
  if (caller.role === "publisher") throw roleForbidden();
  return db.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom("offer_applications as a")
      .innerJoin("offers as o", "o.id", "a.offer_id")
      .select(["a.id", "a.status", "a.offer_id", "a.publisher_id"])
      .where("a.id", "=", id)
      .where("a.tenant_id", "=", caller.tenant_id)
      .$if(caller.role === "advertiser", (qb) =>
        qb.where("o.advertiser_id", "=", caller.advertiser_id as string),
      )
      .forUpdate("a")
      .executeTakeFirst();
    if (!before) throw applicationNotFound();
    const read = async () =>
      toApplication(await scoped(tx, caller).where("a.id", "=", id).executeTakeFirstOrThrow());
    if (before.status === decision.status) return { kind: "unchanged", application: await read() };
    if (before.status !== "pending") {
      throw new ApiError("CONFLICT", `A ${before.status} application cannot become ${decision.status}`);
    }
    await tx
      .updateTable("offer_applications")
      .set({
        status: decision.status,
        reason: decision.reason ?? null,
        decided_by: caller.user_id ?? null,
        decided_at: sql<Date>`now()`,
      })
      .where("id", "=", id)
      .execute();
    let admitted = false;
    if (decision.status === "approved") {
      const updated = await tx
        .updateTable("offers as o")
        .set({
          allowed_publisher_ids: sql<
            string[]
          >`array_append(o.allowed_publisher_ids, ${before.publisher_id}::text)`,
          updated_at: new Date(),
        })
        .where("o.id", "=", before.offer_id)
        .where((eb) => eb.not(eb(sql.val(before.publisher_id), "=", eb.fn.any("o.allowed_publisher_ids"))))
        .executeTakeFirst();
      admitted = Number(updated.numUpdatedRows) > 0;
    }
    return { kind: "changed", application: await read(), admitted };
  });
}
