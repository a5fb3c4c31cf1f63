// Publishers (affiliates and influencers) of a network: network admins create, list, read, update
// and delete them; a publisher user may read their own record.

import { ApiError, newId, successBody } from "@afftrack/core";
import { trackingCodesOfPublisher } from "@afftrack/db";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { callerOf, requireAuth, requireRole } from "../../middleware/jwt-auth";
import { syncLinkRecords } from "../../services/edge-sync";
import {
  bare,
  cursorSql,
  decodeCursor,
  deleteUnlessInUse,
  escapeLike,
  iso,
  isUniqueViolation,
  nameSchema,
  notFound,
  page,
  pageEntries,
  readBody,
  readQuery,
  searchSchema,
} from "./common";

const statusSchema = v.picklist(["active", "suspended"]);
const influencerSchema = v.nullable(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128)));
const CreateBody = v.strictObject({
  name: nameSchema,
  influencer_id: v.optional(influencerSchema),
  status: v.optional(statusSchema),
});
const UpdateBody = v.pipe(
  v.strictObject({
    name: v.optional(nameSchema),
    influencer_id: v.optional(influencerSchema),
    status: v.optional(statusSchema),
  }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
const ListQuery = v.strictObject({ ...pageEntries, status: v.optional(statusSchema), q: searchSchema });

const columns = ["p.id", "p.name", "p.influencer_id", "p.status", "p.created_at"] as const;

function serialize(row: {
  id: string;
  name: string;
  influencer_id: string | null;
  status: string;
  created_at: Date;
}) {
  return {
    id: row.id,
    name: row.name,
    influencer_id: row.influencer_id,
    status: row.status,
    created_at: iso(row.created_at),
  };
}

const influencerTaken = () => new ApiError("CONFLICT", "influencer_id already used in this network");

export function registerPublisherRoutes(app: Hono<AppEnv>): void {
  app.post("/api/publishers", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const body = await readBody(c, CreateBody);
    try {
      const row = await c
        .get("db")()
        .insertInto("publishers")
        .values({
          id: newId("pub"),
          tenant_id: caller.tenant_id,
          ...body,
          influencer_id: body.influencer_id ?? null,
        })
        .returning(bare(columns))
        .executeTakeFirstOrThrow();
      return c.json(successBody(serialize(row), "Publisher created"), 201);
    } catch (err) {
      if (isUniqueViolation(err)) throw influencerTaken();
      throw err;
    }
  });

  app.get("/api/publishers", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const q = readQuery(c, ListQuery);
    const cur = cursorSql("p", decodeCursor(q.cursor));
    const rows = await c
      .get("db")()
      .selectFrom("publishers as p")
      .select([...columns, cur.cursorText])
      .where("p.tenant_id", "=", caller.tenant_id)
      .$if(q.status !== undefined, (qb) => qb.where("p.status", "=", q.status as "active"))
      .$if(q.q !== undefined, (qb) =>
        qb.where((eb) =>
          eb.or([
            eb("p.name", "ilike", `%${escapeLike(q.q as string)}%`),
            eb("p.influencer_id", "=", q.q as string),
          ]),
        ),
      )
      .where(cur.where)
      .orderBy("p.created_at", "desc")
      .orderBy("p.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(successBody(page(rows, q.limit, serialize)));
  });

  app.get("/api/publishers/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const id = c.req.param("id");
    if (caller.role === "advertiser") throw new ApiError("FORBIDDEN", "Your role may not do this");
    if (caller.role === "publisher" && caller.publisher_id !== id) throw notFound("Publisher");
    const row = await c
      .get("db")()
      .selectFrom("publishers as p")
      .select(columns)
      .where("p.id", "=", id)
      .where("p.tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (!row) throw notFound("Publisher");
    return c.json(successBody(serialize(row)));
  });

  app.patch("/api/publishers/:id", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const body = await readBody(c, UpdateBody);
    try {
      const row = await c
        .get("db")()
        .updateTable("publishers as p")
        .set(body)
        .where("p.id", "=", c.req.param("id"))
        .where("p.tenant_id", "=", caller.tenant_id)
        .returning(columns)
        .executeTakeFirst();
      if (!row) throw notFound("Publisher");
      if (body.status !== undefined) {
        // Suspending (or reinstating) a publisher changes whether their links count at the edge.
        const db = c.get("db")();
        await syncLinkRecords(db, c.get("redis"), await trackingCodesOfPublisher(db, row.id));
      }
      return c.json(successBody(serialize(row), "Publisher updated"));
    } catch (err) {
      if (isUniqueViolation(err)) throw influencerTaken();
      throw err;
    }
  });

  app.delete("/api/publishers/:id", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const id = c.req.param("id");
    await deleteUnlessInUse(
      c.get("db")(),
      async (tx) => {
        const row = await tx
          .selectFrom("publishers")
          .select("id")
          .where("id", "=", id)
          .where("tenant_id", "=", caller.tenant_id)
          .forUpdate()
          .executeTakeFirst();
        if (!row) throw notFound("Publisher");
        const inUse = await tx
          .selectFrom("tracking_links")
          .select("id")
          .where("publisher_id", "=", id)
          .unionAll((eb) => eb.selectFrom("users").select("id").where("publisher_id", "=", id))
          .limit(1)
          .executeTakeFirst();
        // Tracking links carry click history; suspend the publisher instead of erasing it.
        if (inUse)
          throw new ApiError("CONFLICT", "Publisher has tracking links or users; suspend it instead");
        await tx.deleteFrom("invitations").where("publisher_id", "=", id).execute();
        await tx.deleteFrom("publishers").where("id", "=", id).execute();
      },
      "Publisher has history elsewhere; suspend it instead",
    );
    return c.json(successBody({ id, deleted: true }, "Publisher deleted"));
  });
}
