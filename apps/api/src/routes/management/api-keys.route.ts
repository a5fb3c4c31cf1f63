// An advertiser's API keys (network admins may act for any advertiser of their network): create
// (the key is shown once), list by prefix, rotate with an overlap window, revoke.
// Issuing, rotating and revoking go through services/api-keys.ts (the ingestion side's own rules);
// this file adds the caller's scope, pagination and the response shapes.

import { ApiError, successBody } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import type { Hono } from "hono";
import type { Kysely } from "kysely";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { type Caller, callerOf, requireAuth } from "../../middleware/jwt-auth";
import { createApiKey, type IssuedApiKey, revokeApiKey, rotateApiKey } from "../../services/api-keys";
import {
  advertiserScope,
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

/** The key's row when it belongs to the caller's scope (network; own advertiser for advertisers). */
async function scopedKey(db: Kysely<Database>, caller: Caller, id: string) {
  if (caller.role === "publisher") throw new ApiError("FORBIDDEN", "Your role may not do this");
  const row = await db
    .selectFrom("api_keys as k")
    .select(columns)
    .where("k.id", "=", id)
    .where("k.tenant_id", "=", caller.tenant_id)
    .$if(caller.role === "advertiser", (qb) =>
      qb.where("k.advertiser_id", "=", caller.advertiser_id as string),
    )
    .executeTakeFirst();
  if (!row) throw notFound("API key");
  return row;
}

/** A freshly issued key: its listing fields plus the key and v2 signing secret, shown this once. */
async function issuedBody(db: Kysely<Database>, caller: Caller, issued: IssuedApiKey) {
  const row = await scopedKey(db, caller, issued.id);
  return { ...serialize(row), key: issued.key, signing_secret: issued.signing_secret };
}

export function registerApiKeyRoutes(app: Hono<AppEnv>): void {
  app.post("/api/api-keys", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const body = await readBody(c, CreateBody);
    const db = c.get("db")();
    const advertiser_id = await advertiserScope(db, caller, body.advertiser_id);
    const issued = await createApiKey(db, { tenant_id: caller.tenant_id, advertiser_id });
    return c.json(
      successBody(
        await issuedBody(db, caller, issued),
        "API key created; store it now, it is not shown again",
      ),
      201,
    );
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
    const old = await scopedKey(db, caller, c.req.param("id"));
    const issued = await rotateApiKey(db, old.id, {
      overlapSeconds: (body.overlap_hours ?? DEFAULT_KEY_OVERLAP_HOURS) * 3600,
    });
    // Revoked or already expired: nothing to rotate.
    if (!issued) throw notFound("API key");
    const result = {
      api_key: await issuedBody(db, caller, issued),
      rotated: serialize(await scopedKey(db, caller, old.id)),
    };
    return c.json(successBody(result, "API key rotated; store the new key now, it is not shown again"), 201);
  });

  app.delete("/api/api-keys/:id", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const db = c.get("db")();
    const key = await scopedKey(db, caller, c.req.param("id"));
    await revokeApiKey(db, key.id, { advertiserId: key.advertiser_id });
    return c.json(successBody(serialize(await scopedKey(db, caller, key.id)), "API key revoked"));
  });
}
