// An advertiser's API keys (network admins may act for any advertiser of their network): create
// (the key is shown once), list by prefix, rotate with an overlap window, revoke.
// Keys follow the ingestion format: `ak_` + 40 base62, SHA-256 hex stored, prefix = first 10 chars.

import { newId, randomBase62, sha256Hex, successBody } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import type { Hono } from "hono";
import type { Kysely } from "kysely";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { callerOf, requireAuth } from "../../middleware/jwt-auth";
import {
  advertiserScope,
  bare,
  cursorSql,
  decodeCursor,
  idSchema,
  iso,
  notFound,
  page,
  pageEntries,
  readBody,
  readQuery,
} from "./common";

export const DEFAULT_KEY_OVERLAP_HOURS = 24;
const MAX_KEY_OVERLAP_HOURS = 168;

const CreateBody = v.strictObject({ advertiser_id: v.optional(idSchema) });
const RotateBody = v.strictObject({
  overlap_hours: v.optional(
    v.pipe(v.number(), v.minValue(0), v.maxValue(MAX_KEY_OVERLAP_HOURS, "must be at most 168 (7 days)")),
  ),
});
const ListQuery = v.strictObject({
  ...pageEntries,
  advertiser_id: v.optional(idSchema),
  status: v.optional(v.picklist(["active", "revoked", "expired"])),
  prefix: v.optional(v.pipe(v.string(), v.maxLength(10))),
});

const columns = [
  "k.id",
  "k.advertiser_id",
  "k.prefix",
  "k.status",
  "k.expires_at",
  "k.last_used_at",
  "k.created_at",
] as const;

function serialize(row: {
  id: string;
  advertiser_id: string;
  prefix: string;
  status: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}) {
  const expired =
    row.status === "active" && row.expires_at !== null && row.expires_at.getTime() <= Date.now();
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    prefix: row.prefix,
    status: expired ? "expired" : row.status,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    created_at: iso(row.created_at),
  };
}

async function insertKey(db: Kysely<Database>, owner: { tenant_id: string; advertiser_id: string }) {
  const key = `ak_${randomBase62(40)}`;
  const row = await db
    .insertInto("api_keys")
    .values({
      id: newId("key"),
      tenant_id: owner.tenant_id,
      advertiser_id: owner.advertiser_id,
      prefix: key.slice(0, 10),
      key_hash: await sha256Hex(key),
    })
    .returning(bare(columns))
    .executeTakeFirstOrThrow();
  return { ...serialize(row), key };
}

export function registerApiKeyRoutes(app: Hono<AppEnv>): void {
  app.post("/api/api-keys", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const body = await readBody(c, CreateBody);
    const db = c.get("db")();
    const advertiser_id = await advertiserScope(db, caller, body.advertiser_id);
    const created = await insertKey(db, { tenant_id: caller.tenant_id, advertiser_id });
    return c.json(successBody(created, "API key created; store it now, it is not shown again"), 201);
  });

  app.get("/api/api-keys", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const q = readQuery(c, ListQuery);
    const db = c.get("db")();
    // Admins may list the whole network or one advertiser; advertisers only their own.
    const advertiserId =
      caller.role === "network_admin" && q.advertiser_id === undefined
        ? undefined
        : await advertiserScope(db, caller, q.advertiser_id);
    const cur = cursorSql("k", decodeCursor(q.cursor));
    const now = new Date();
    const rows = await db
      .selectFrom("api_keys as k")
      .select([...columns, cur.cursorText])
      .where("k.tenant_id", "=", caller.tenant_id)
      .$if(advertiserId !== undefined, (qb) => qb.where("k.advertiser_id", "=", advertiserId as string))
      .$if(q.status === "revoked", (qb) => qb.where("k.status", "=", "revoked"))
      .$if(q.status === "active", (qb) =>
        qb
          .where("k.status", "=", "active")
          .where((eb) => eb.or([eb("k.expires_at", "is", null), eb("k.expires_at", ">", now)])),
      )
      .$if(q.status === "expired", (qb) =>
        qb.where("k.status", "=", "active").where("k.expires_at", "<=", now),
      )
      .$if(q.prefix !== undefined, (qb) =>
        qb.where("k.prefix", "like", `${(q.prefix as string).replace(/[\\%_]/g, "\\$&")}%`),
      )
      .where(cur.where)
      .orderBy("k.created_at", "desc")
      .orderBy("k.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(successBody(page(rows, q.limit, serialize)));
  });

  /** New key active at once; the old one keeps working for the overlap window, then expires. */
  app.post("/api/api-keys/:id/rotate", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const body = await readBody(c, RotateBody);
    const db = c.get("db")();
    const advertiserId = caller.role === "advertiser" ? caller.advertiser_id : undefined;
    if (caller.role === "publisher") await advertiserScope(db, caller, undefined);
    const overlapMs = (body.overlap_hours ?? DEFAULT_KEY_OVERLAP_HOURS) * 3_600_000;
    const result = await db.transaction().execute(async (tx) => {
      const old = await tx
        .selectFrom("api_keys")
        .select(["id", "advertiser_id", "expires_at"])
        .where("id", "=", c.req.param("id"))
        .where("tenant_id", "=", caller.tenant_id)
        .$if(advertiserId !== undefined, (qb) => qb.where("advertiser_id", "=", advertiserId as string))
        .where("status", "=", "active")
        .forUpdate()
        .executeTakeFirst();
      if (!old || (old.expires_at && old.expires_at.getTime() <= Date.now())) throw notFound("API key");
      // Never lengthen a key that was already due to expire sooner.
      const until = new Date(
        Math.min(Date.now() + overlapMs, old.expires_at?.getTime() ?? Number.POSITIVE_INFINITY),
      );
      const retired = await tx
        .updateTable("api_keys as k")
        .set({ expires_at: until })
        .where("k.id", "=", old.id)
        .returning(columns)
        .executeTakeFirstOrThrow();
      const created = await insertKey(tx, { tenant_id: caller.tenant_id, advertiser_id: old.advertiser_id });
      return { api_key: created, rotated: serialize(retired) };
    });
    return c.json(successBody(result, "API key rotated; store the new key now, it is not shown again"), 201);
  });

  app.delete("/api/api-keys/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const db = c.get("db")();
    if (caller.role === "publisher") await advertiserScope(db, caller, undefined);
    const row = await db
      .updateTable("api_keys as k")
      .set({ status: "revoked" })
      .where("k.id", "=", c.req.param("id"))
      .where("k.tenant_id", "=", caller.tenant_id)
      .$if(caller.role === "advertiser", (qb) =>
        qb.where("k.advertiser_id", "=", caller.advertiser_id as string),
      )
      .returning(columns)
      .executeTakeFirst();
    if (!row) throw notFound("API key");
    return c.json(successBody(serialize(row), "API key revoked"));
  });
}
