// Users of a network and invitations into it (network admins only). An invitation binds the new
// user to a role and, for advertiser or publisher users, to one account of this network.

import { ApiError, randomBase62, sha256Hex, successBody } from "@afftrack/core";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { requireAuth, requireRole } from "../../middleware/jwt-auth";
import {
  bare,
  cursorSql,
  decodeCursor,
  emailSchema,
  escapeLike,
  idSchema,
  iso,
  notFound,
  page,
  pageEntries,
  readBody,
  readQuery,
  searchSchema,
} from "./common";

export const INVITATION_TTL_SECONDS = 7 * 86_400;

const roleSchema = v.picklist(["network_admin", "advertiser", "publisher"]);
const InviteBody = v.pipe(
  v.strictObject({
    email: emailSchema,
    role: roleSchema,
    advertiser_id: v.optional(idSchema),
    publisher_id: v.optional(idSchema),
  }),
  v.forward(
    v.check(
      (b) => (b.role === "advertiser") === (b.advertiser_id !== undefined),
      "required for role advertiser and only for it",
    ),
    ["advertiser_id"],
  ),
  v.forward(
    v.check(
      (b) => (b.role === "publisher") === (b.publisher_id !== undefined),
      "required for role publisher and only for it",
    ),
    ["publisher_id"],
  ),
);
const UserListQuery = v.strictObject({ ...pageEntries, role: v.optional(roleSchema), q: searchSchema });
const InviteListQuery = v.strictObject({
  ...pageEntries,
  status: v.optional(v.picklist(["pending", "accepted", "expired"])),
});

function serializeUser(row: {
  id: string;
  email: string;
  name: string | null;
  role: string;
  advertiser_id: string | null;
  publisher_id: string | null;
  created_at: Date;
}) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    advertiser_id: row.advertiser_id,
    publisher_id: row.publisher_id,
    created_at: iso(row.created_at),
  };
}

function serializeInvite(row: {
  id: string;
  email: string;
  role: string;
  advertiser_id: string | null;
  publisher_id: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  created_at: Date;
}) {
  const status = row.accepted_at
    ? "accepted"
    : row.expires_at.getTime() <= Date.now()
      ? "expired"
      : "pending";
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    advertiser_id: row.advertiser_id,
    publisher_id: row.publisher_id,
    status,
    expires_at: iso(row.expires_at),
    accepted_at: iso(row.accepted_at),
    created_at: iso(row.created_at),
  };
}

const inviteColumns = [
  "i.id",
  "i.email",
  "i.role",
  "i.advertiser_id",
  "i.publisher_id",
  "i.expires_at",
  "i.accepted_at",
  "i.created_at",
] as const;

export function registerUserRoutes(app: Hono<AppEnv>): void {
  app.get("/api/users", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const q = readQuery(c, UserListQuery);
    const cur = cursorSql("u", decodeCursor(q.cursor));
    const rows = await c
      .get("db")()
      .selectFrom("users as u")
      .select([
        "u.id",
        "u.email",
        "u.name",
        "u.role",
        "u.advertiser_id",
        "u.publisher_id",
        "u.created_at",
        cur.cursorText,
      ])
      .where("u.tenant_id", "=", caller.tenant_id)
      .$if(q.role !== undefined, (qb) => qb.where("u.role", "=", q.role as "advertiser"))
      .$if(q.q !== undefined, (qb) => qb.where("u.email", "ilike", `%${escapeLike(q.q as string)}%`))
      .where(cur.where)
      .orderBy("u.created_at", "desc")
      .orderBy("u.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(successBody(page(rows, q.limit, serializeUser)));
  });

  app.post("/api/invitations", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const body = await readBody(c, InviteBody);
    const db = c.get("db")();
    if (body.advertiser_id) {
      const found = await db
        .selectFrom("advertisers")
        .select("id")
        .where("id", "=", body.advertiser_id)
        .where("tenant_id", "=", caller.tenant_id)
        .executeTakeFirst();
      if (!found) throw notFound("Advertiser");
    }
    if (body.publisher_id) {
      const found = await db
        .selectFrom("publishers")
        .select("id")
        .where("id", "=", body.publisher_id)
        .where("tenant_id", "=", caller.tenant_id)
        .executeTakeFirst();
      if (!found) throw notFound("Publisher");
    }
    const taken = await db
      .selectFrom("users")
      .select("id")
      .where((eb) => eb(eb.fn("lower", ["email"]), "=", body.email))
      .executeTakeFirst();
    if (taken) throw new ApiError("CONFLICT", "Email already registered");
    // Shown once; in production it travels in the invitation email, never stored in clear.
    const invite_token = `inv_${randomBase62(40)}`;
    const row = await db
      .insertInto("invitations")
      .values({
        id: `ivt_${randomBase62(16)}`,
        tenant_id: caller.tenant_id,
        email: body.email,
        role: body.role,
        advertiser_id: body.advertiser_id ?? null,
        publisher_id: body.publisher_id ?? null,
        token_hash: await sha256Hex(invite_token),
        invited_by: caller.user_id,
        expires_at: new Date(Date.now() + INVITATION_TTL_SECONDS * 1000),
      })
      .returning(bare(inviteColumns))
      .executeTakeFirstOrThrow();
    return c.json(successBody({ ...serializeInvite(row), invite_token }, "Invitation created"), 201);
  });

  app.get("/api/invitations", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const q = readQuery(c, InviteListQuery);
    const cur = cursorSql("i", decodeCursor(q.cursor));
    const now = new Date();
    const rows = await c
      .get("db")()
      .selectFrom("invitations as i")
      .select([...inviteColumns, cur.cursorText])
      .where("i.tenant_id", "=", caller.tenant_id)
      .$if(q.status === "accepted", (qb) => qb.where("i.accepted_at", "is not", null))
      .$if(q.status === "pending", (qb) =>
        qb.where("i.accepted_at", "is", null).where("i.expires_at", ">", now),
      )
      .$if(q.status === "expired", (qb) =>
        qb.where("i.accepted_at", "is", null).where("i.expires_at", "<=", now),
      )
      .where(cur.where)
      .orderBy("i.created_at", "desc")
      .orderBy("i.id", "desc")
      .limit(q.limit + 1)
      .execute();
    return c.json(successBody(page(rows, q.limit, serializeInvite)));
  });

  app.delete("/api/invitations/:id", requireAuth(), async (c) => {
    const caller = requireRole(c, "network_admin");
    const id = c.req.param("id");
    const row = await c
      .get("db")()
      .updateTable("invitations as i")
      .set({ expires_at: new Date() })
      .where("i.id", "=", id)
      .where("i.tenant_id", "=", caller.tenant_id)
      .where("i.accepted_at", "is", null)
      .returning(inviteColumns)
      .executeTakeFirst();
    if (!row) throw notFound("Invitation");
    return c.json(successBody(serializeInvite(row), "Invitation revoked"));
  });
}
