// Advertisers of a network: network admins create, list, read, update and delete them; an
// advertiser user may read their own. Creating one also creates its first link-signing secret.

import { ApiError, newId, successBody } from "@afftrack/core";
import { trackingCodesOfAdvertiser } from "@afftrack/db";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { callerOf, requireAuth, requireRole } from "../../middleware/jwt-auth";
import { syncLinkRecords } from "../../services/edge-sync";
import { createCurrentSecret } from "../../services/link-secrets";
import {
  bare,
  cursorSql,
  decodeCursor,
  deleteUnlessInUse,
  escapeLike,
  ipListSchema,
  iso,
  nameSchema,
  notFound,
  page,
  pageEntries,
  readBody,
  readQuery,
  searchSchema,
} from "./common";

const statusSchema = v.picklist(["active", "suspended"]);
const fields = {
  name: nameSchema,
  status: v.optional(statusSchema),
  require_strong_signature: v.optional(v.boolean()),
  postback_ip_allowlist: v.optional(ipListSchema),
};
const CreateBody = v.strictObject(fields);
const UpdateBody = v.pipe(
  v.strictObject({ ...fields, name: v.optional(nameSchema) }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
const ListQuery = v.strictObject({ ...pageEntries, status: v.optional(statusSchema), q: searchSchema });

const columns = [
  "a.id",
  "a.name",
  "a.status",
  "a.require_strong_signature",
  "a.postback_ip_allowlist",
  "a.created_at",
] as const;

function serialize(row: {
  id: string;
  name: string;
  status: string;
  require_strong_signature: boolean;
  postback_ip_allowlist: string[];
  created_at: Date;
}) {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    require_strong_signature: row.require_strong_signature,
    postback_ip_allowlist: row.postback_ip_allowlist,
    created_at: iso(row.created_at),
  };
}

export function registerAdvertiserRoutes(app: Hono<AppEnv>): void {
  app.post("/api/advertisers", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const body = await readBody(c, CreateBody);
    const db = c.get("db")();
    const id = newId("adv");
    const row = await db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto("advertisers")
        .values({ id, tenant_id: caller.tenant_id, ...body })
        .returning(bare(columns))
        .executeTakeFirstOrThrow();
      await createCurrentSecret(tx, { tenant_id: caller.tenant_id, advertiser_id: id });
      return inserted;
    });
    return c.json(successBody(serialize(row), "Advertiser created"), 201);
  });

  app.get("/api/advertisers", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const q = readQuery(c, ListQuery);
    const cur = cursorSql("a", decodeCursor(q.cursor));
    const rows = await c
      .get("db")()
      .selectFrom("advertisers as a")
      .select([...columns, cur.cursorText])
      .where("a.tenant_id", "=", caller.tenant_id)
      .$if(q.status !== undefined, (qb) => qb.where("a.status", "=", q.status as "active"))
      .$if(q.q !== undefined, (qb) => qb.where("a.name", "ilike", `%${escapeLike(q.q as string)}%`))
      .where(cur.where)
      .orderBy("a.created_at", "desc")
      .orderBy("a.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(successBody(page(rows, q.limit, serialize)));
  });

  app.get("/api/advertisers/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const id = c.req.param("id");
    if (caller.role === "publisher") throw new ApiError("FORBIDDEN", "Your role may not do this");
    if (caller.role === "advertiser" && caller.advertiser_id !== id) throw notFound("Advertiser");
    const row = await c
      .get("db")()
      .selectFrom("advertisers as a")
      .select(columns)
      .where("a.id", "=", id)
      .where("a.tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (!row) throw notFound("Advertiser");
    return c.json(successBody(serialize(row)));
  });

  app.patch("/api/advertisers/:id", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const body = await readBody(c, UpdateBody);
    const row = await c
      .get("db")()
      .updateTable("advertisers as a")
      .set(body)
      .where("a.id", "=", c.req.param("id"))
      .where("a.tenant_id", "=", caller.tenant_id)
      .returning(columns)
      .executeTakeFirst();
    if (!row) throw notFound("Advertiser");
    if (body.status !== undefined) {
      // Suspending (or reinstating) an advertiser changes whether its links count at the edge.
      const db = c.get("db")();
      await syncLinkRecords(db, c.get("redis"), await trackingCodesOfAdvertiser(db, row.id));
    }
    return c.json(successBody(serialize(row), "Advertiser updated"));
  });

  app.delete("/api/advertisers/:id", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const id = c.req.param("id");
    await deleteUnlessInUse(
      c.get("db")(),
      async (tx) => {
        const row = await tx
          .selectFrom("advertisers")
          .select("id")
          .where("id", "=", id)
          .where("tenant_id", "=", caller.tenant_id)
          .forUpdate()
          .executeTakeFirst();
        if (!row) throw notFound("Advertiser");
        const inUse = await tx
          .selectFrom("offers")
          .select("id")
          .where("advertiser_id", "=", id)
          .unionAll((eb) => eb.selectFrom("users").select("id").where("advertiser_id", "=", id))
          .limit(1)
          .executeTakeFirst();
        // Offers carry click and conversion history; suspend the advertiser instead of erasing it.
        if (inUse) throw new ApiError("CONFLICT", "Advertiser has offers or users; suspend it instead");
        await tx.deleteFrom("invitations").where("advertiser_id", "=", id).execute();
        await tx.deleteFrom("api_keys").where("advertiser_id", "=", id).execute();
        await tx.deleteFrom("link_secrets").where("advertiser_id", "=", id).execute();
        await tx.deleteFrom("advertisers").where("id", "=", id).execute();
      },
      "Advertiser has history elsewhere; suspend it instead",
    );
    return c.json(successBody({ id, deleted: true }, "Advertiser deleted"));
  });
}
