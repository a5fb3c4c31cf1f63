// Deleting an account (advertiser or publisher) of a network: only one without history-bearing
// rows (offers, tracking links) or users, taking its owned rows with it; CONFLICT otherwise, so a
// network suspends accounts with history instead of erasing what was paid.

import { ApiError } from "@afftrack/core";
import type { Kysely } from "kysely";
import { isForeignKeyViolation } from "./pagination";
import type { Database } from "./schema";

type OwnedTable = "invitations" | "api_keys" | "link_secrets";

interface AccountKind {
  table: "advertisers" | "publishers";
  /** The column other tables reference the account by. */
  ref: "advertiser_id" | "publisher_id";
  /** Rows that carry click or conversion history. */
  history: "offers" | "tracking_links";
  /** Rows deleted with the account. */
  owned: OwnedTable[];
  name: string;
  historyName: string;
}

const KINDS = {
  advertiser: {
    table: "advertisers",
    ref: "advertiser_id",
    history: "offers",
    owned: ["invitations", "api_keys", "link_secrets"],
    name: "Advertiser",
    historyName: "offers",
  },
  publisher: {
    table: "publishers",
    ref: "publisher_id",
    history: "tracking_links",
    owned: ["invitations"],
    name: "Publisher",
    historyName: "tracking links",
  },
} satisfies Record<string, AccountKind>;

export async function deleteAccountOrThrow(
  db: Kysely<Database>,
  kind: keyof typeof KINDS,
  tenantId: string,
  id: string,
): Promise<void> {
  const k: AccountKind = KINDS[kind];
  // One table per kind; kysely cannot type a table chosen at run time, so the names are asserted.
  const ref = k.ref as "advertiser_id";
  try {
    await db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom(k.table as "advertisers")
        .select("id")
        .where("id", "=", id)
        .where("tenant_id", "=", tenantId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw new ApiError("NOT_FOUND", `${k.name} not found`);
      const inUse = await tx
        .selectFrom(k.history as "offers")
        .select("id")
        .where(ref, "=", id)
        .unionAll((eb) => eb.selectFrom("users").select("id").where(ref, "=", id))
        .limit(1)
        .executeTakeFirst();
      if (inUse)
        throw new ApiError("CONFLICT", `${k.name} has ${k.historyName} or users; suspend it instead`);
      for (const table of k.owned)
        await tx
          .deleteFrom(table as "invitations")
          .where(ref, "=", id)
          .execute();
      await tx
        .deleteFrom(k.table as "advertisers")
        .where("id", "=", id)
        .execute();
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      throw new ApiError("CONFLICT", `${k.name} has history elsewhere; suspend it instead`);
    }
    throw err;
  }
}
