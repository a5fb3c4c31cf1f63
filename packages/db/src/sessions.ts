// Refresh tokens of management-API sessions: opaque, stored hashed, rotated on every use.
// Presenting a refresh token that was already rotated means it was copied: every session of
// that user is revoked.

import { ApiError, randomBase62, type SessionUser, sha256Hex } from "@afftrack/core";
import type { Kysely } from "kysely";
import type { Database } from "./schema";

export const REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;

const SESSION_USER_COLUMNS = [
  "id",
  "tenant_id",
  "email",
  "name",
  "role",
  "advertiser_id",
  "publisher_id",
] as const;

/** The user a session is for, without the password hash; null when the user is gone. */
export async function getSessionUser(db: Kysely<Database>, userId: string): Promise<SessionUser | null> {
  const row = await db
    .selectFrom("users")
    .select(SESSION_USER_COLUMNS)
    .where("id", "=", userId)
    .executeTakeFirst();
  return row ?? null;
}

/** The user logging in with this email (any case), with the password hash to check. */
export function findLoginUser(
  db: Kysely<Database>,
  email: string,
): Promise<(SessionUser & { password_hash: string }) | undefined> {
  return db
    .selectFrom("users")
    .select([...SESSION_USER_COLUMNS, "password_hash"])
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.toLowerCase()))
    .executeTakeFirst();
}

export interface RefreshToken {
  id: string;
  /** The token itself: handed to the client once, only its hash is stored. */
  token: string;
}

/** Stores a new refresh token of `user` (30 days). */
export async function createRefreshToken(
  db: Kysely<Database>,
  user: Pick<SessionUser, "id" | "tenant_id">,
): Promise<RefreshToken> {
  const token = `rt_${randomBase62(48)}`;
  const id = `rt_${randomBase62(16)}`;
  await db
    .insertInto("refresh_tokens")
    .values({
      id,
      tenant_id: user.tenant_id,
      user_id: user.id,
      token_hash: await sha256Hex(token),
      expires_at: new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000),
    })
    .execute();
  return { id, token };
}

/**
 * Spends a refresh token and stores its successor; UNAUTHORIZED when the token is unknown,
 * expired or revoked. A rotated token coming back revokes every session of its user.
 */
export async function rotateRefreshToken(
  db: Kysely<Database>,
  token: string,
): Promise<{ user: SessionUser; refresh: RefreshToken }> {
  const invalid = () => new ApiError("UNAUTHORIZED", "Invalid or expired refresh token");
  const row = await db
    .selectFrom("refresh_tokens")
    .select(["id", "user_id", "expires_at", "revoked_at", "replaced_by"])
    .where("token_hash", "=", await sha256Hex(token))
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
  const user = await getSessionUser(db, row.user_id);
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
    const refresh = await createRefreshToken(tx, user);
    await tx
      .updateTable("refresh_tokens")
      .set({ replaced_by: refresh.id })
      .where("id", "=", row.id)
      .execute();
    return { user, refresh };
  });
}

export async function revokeRefreshToken(db: Kysely<Database>, token: string): Promise<void> {
  await db
    .updateTable("refresh_tokens")
    .set({ revoked_at: new Date() })
    .where("token_hash", "=", await sha256Hex(token))
    .where("revoked_at", "is", null)
    .execute();
}
