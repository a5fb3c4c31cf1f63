// Login sessions of the management API: a short-lived JWT access token plus an opaque refresh
// token stored hashed and rotated on every use. Presenting a refresh token that was already
// rotated means it was copied: every session of that user is revoked.

import { ApiError, randomBase62, sha256Hex, signJwt, type UserRole } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import type { Kysely } from "kysely";
import { ACCESS_TOKEN_TTL_SECONDS } from "../middleware/jwt-auth";

export const REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;

export interface SessionUser {
  id: string;
  tenant_id: string;
  email: string;
  name: string | null;
  role: UserRole;
  advertiser_id: string | null;
  publisher_id: string | null;
}

export interface SessionBody {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_expires_in: number;
  user: SessionUser;
}

export async function issueSession(
  db: Kysely<Database>,
  jwtSecret: string,
  user: SessionUser,
): Promise<SessionBody & { refresh_id: string }> {
  const access_token = await signJwt(
    {
      sub: user.id,
      role: user.role,
      tenant_id: user.tenant_id,
      ...(user.advertiser_id ? { advertiser_id: user.advertiser_id } : {}),
      ...(user.publisher_id ? { publisher_id: user.publisher_id } : {}),
    },
    jwtSecret,
    { ttlSeconds: ACCESS_TOKEN_TTL_SECONDS },
  );
  const refresh_token = `rt_${randomBase62(48)}`;
  const refresh_id = `rt_${randomBase62(16)}`;
  await db
    .insertInto("refresh_tokens")
    .values({
      id: refresh_id,
      tenant_id: user.tenant_id,
      user_id: user.id,
      token_hash: await sha256Hex(refresh_token),
      expires_at: new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000),
    })
    .execute();
  return {
    access_token,
    refresh_token,
    token_type: "Bearer",
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_expires_in: REFRESH_TOKEN_TTL_SECONDS,
    user,
    refresh_id,
  };
}

export function publicSession(s: SessionBody & { refresh_id: string }): SessionBody {
  const { refresh_id: _, ...body } = s;
  return body;
}

const userColumns = [
  "u.id",
  "u.tenant_id",
  "u.email",
  "u.name",
  "u.role",
  "u.advertiser_id",
  "u.publisher_id",
] as const;

export async function loadSessionUser(db: Kysely<Database>, userId: string): Promise<SessionUser | null> {
  const row = await db
    .selectFrom("users as u")
    .select(userColumns)
    .where("u.id", "=", userId)
    .executeTakeFirst();
  return row ?? null;
}

export async function findUserByEmail(db: Kysely<Database>, email: string) {
  return db
    .selectFrom("users as u")
    .select([...userColumns, "u.password_hash"])
    .where((eb) => eb(eb.fn("lower", ["u.email"]), "=", email.toLowerCase()))
    .executeTakeFirst();
}

/** Exchanges a refresh token for a new session; the old token is spent. */
export async function refreshSession(
  db: Kysely<Database>,
  jwtSecret: string,
  refreshToken: string,
): Promise<SessionBody> {
  const hash = await sha256Hex(refreshToken);
  const invalid = () => new ApiError("UNAUTHORIZED", "Invalid or expired refresh token");
  const row = await db
    .selectFrom("refresh_tokens")
    .select(["id", "user_id", "expires_at", "revoked_at", "replaced_by"])
    .where("token_hash", "=", hash)
    .executeTakeFirst();
  if (!row) throw invalid();
  if (row.revoked_at) {
    if (row.replaced_by) {
      // A rotated token came back: someone holds a copy. End every session of this user.
      await db
        .updateTable("refresh_tokens")
        .set({ revoked_at: new Date() })
        .where("user_id", "=", row.user_id)
        .where("revoked_at", "is", null)
        .execute();
    }
    throw invalid();
  }
  if (row.expires_at.getTime() <= Date.now()) throw invalid();
  const user = await loadSessionUser(db, row.user_id);
  if (!user) throw invalid();
  return db.transaction().execute(async (tx) => {
    // Conditional update: of two concurrent refreshes with the same token only one wins.
    const spent = await tx
      .updateTable("refresh_tokens")
      .set({ revoked_at: new Date() })
      .where("id", "=", row.id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (spent.numUpdatedRows !== 1n) throw invalid();
    const next = await issueSession(tx, jwtSecret, user);
    await tx
      .updateTable("refresh_tokens")
      .set({ replaced_by: next.refresh_id })
      .where("id", "=", row.id)
      .execute();
    return publicSession(next);
  });
}

export async function revokeRefreshToken(db: Kysely<Database>, refreshToken: string): Promise<void> {
  await db
    .updateTable("refresh_tokens")
    .set({ revoked_at: new Date() })
    .where("token_hash", "=", await sha256Hex(refreshToken))
    .where("revoked_at", "is", null)
    .execute();
}
