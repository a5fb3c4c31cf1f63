// Users of a network and invitations into it: registering a network with its first admin,
// accepting an invitation (both start a session), listing users, and inviting, listing and
// revoking invitations, always within the caller's network.

import {
  type AcceptInviteInput,
  ApiError,
  type CreatedInvitation,
  type CreateInvitationInput,
  type Invitation,
  type ListInvitationsInput,
  type ListUsersInput,
  type Network,
  newId,
  type RegisterInput,
  randomBase62,
  type SessionUser,
  sha256Hex,
  type User,
} from "@afftrack/core";
import type { Kysely } from "kysely";
import { advertiserNotFound } from "./advertisers";
import { escapeLike, isUniqueViolation, type Page, paginate } from "./pagination";
import { publisherNotFound } from "./publishers";
import type { Database } from "./schema";
import { createRefreshToken, type RefreshToken } from "./sessions";

export const INVITATION_TTL_SECONDS = 7 * 86_400;

/** A new user with the first refresh token of their session. */
export interface NewSession {
  user: SessionUser;
  refresh: RefreshToken;
}

function emailTaken(): ApiError {
  return new ApiError("CONFLICT", "Email already registered");
}

/**
 * Creates the user `userOf` makes in the same transaction (with whatever it writes first) and
 * their first refresh token; CONFLICT when the email is taken, and then nothing is written.
 */
async function createUserWithSession(
  db: Kysely<Database>,
  passwordHash: string,
  userOf: (tx: Kysely<Database>) => Promise<SessionUser>,
): Promise<NewSession> {
  try {
    return await db.transaction().execute(async (tx) => {
      const user = await userOf(tx);
      await tx
        .insertInto("users")
        .values({ ...user, password_hash: passwordHash })
        .execute();
      return { user, refresh: await createRefreshToken(tx, user) };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

/** A new network with its first admin. */
export async function registerNetwork(
  db: Kysely<Database>,
  input: Omit<RegisterInput, "password"> & { password_hash: string },
): Promise<NewSession & { network: Network }> {
  const network = { id: newId("net"), name: input.network_name };
  const session = await createUserWithSession(db, input.password_hash, async (tx) => {
    await tx.insertInto("tenants").values(network).execute();
    return {
      id: newId("usr"),
      tenant_id: network.id,
      email: input.email,
      name: input.name ?? null,
      role: "network_admin",
      advertiser_id: null,
      publisher_id: null,
    };
  });
  return { ...session, network };
}

/** Spends a pending invitation and creates its user; NOT_FOUND when it is unknown, used or expired. */
export async function acceptInvitation(
  db: Kysely<Database>,
  input: Omit<AcceptInviteInput, "password"> & { password_hash: string },
): Promise<NewSession> {
  const tokenHash = await sha256Hex(input.invite_token);
  return createUserWithSession(db, input.password_hash, async (tx) => {
    const invite = await tx
      .updateTable("invitations")
      .set({ accepted_at: new Date() })
      .where("token_hash", "=", tokenHash)
      .where("accepted_at", "is", null)
      .where("expires_at", ">", new Date())
      .returning(["tenant_id", "email", "role", "advertiser_id", "publisher_id"])
      .executeTakeFirst();
    if (!invite) throw invitationNotFound();
    return { id: newId("usr"), ...invite, name: input.name ?? null };
  });
}

export async function getNetwork(db: Kysely<Database>, tenantId: string): Promise<Network> {
  return db.selectFrom("tenants").select(["id", "name"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
}

// ---------------------------------------------------------------------------------------------
// Users

const USER_COLUMNS = ["id", "email", "name", "role", "advertiser_id", "publisher_id", "created_at"] as const;

export function listUsers(
  db: Kysely<Database>,
  tenantId: string,
  query: ListUsersInput,
): Promise<Page<User>> {
  const { role, q } = query;
  return paginate(
    db
      .selectFrom("users")
      .select(USER_COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(role !== undefined, (qb) => qb.where("role", "=", role as "advertiser"))
      .$if(q !== undefined, (qb) => qb.where("email", "ilike", `%${escapeLike(q as string)}%`)),
    "users",
    query,
    (row) => ({ ...row, created_at: row.created_at.toISOString() }),
  );
}

// ---------------------------------------------------------------------------------------------
// Invitations

const INVITATION_COLUMNS = [
  "id",
  "email",
  "role",
  "advertiser_id",
  "publisher_id",
  "expires_at",
  "accepted_at",
  "created_at",
] as const;

interface InvitationRow {
  id: string;
  email: string;
  role: Invitation["role"];
  advertiser_id: string | null;
  publisher_id: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  created_at: Date;
}

function toInvitation(row: InvitationRow): Invitation {
  const status = row.accepted_at
    ? "accepted"
    : row.expires_at.getTime() <= Date.now()
      ? "expired"
      : "pending";
  return {
    ...row,
    status,
    expires_at: row.expires_at.toISOString(),
    accepted_at: row.accepted_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

export function invitationNotFound(): ApiError {
  return new ApiError("NOT_FOUND", "Invitation not found");
}

/**
 * Invites an email into the caller's network; the advertiser or publisher it binds to must be of
 * that network, and the email must not have an account yet. The token is returned this once.
 */
export async function createInvitation(
  db: Kysely<Database>,
  caller: { tenant_id: string; user_id: string },
  input: CreateInvitationInput,
): Promise<CreatedInvitation> {
  if (input.advertiser_id) {
    const found = await db
      .selectFrom("advertisers")
      .select("id")
      .where("id", "=", input.advertiser_id)
      .where("tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (!found) throw advertiserNotFound();
  }
  if (input.publisher_id) {
    const found = await db
      .selectFrom("publishers")
      .select("id")
      .where("id", "=", input.publisher_id)
      .where("tenant_id", "=", caller.tenant_id)
      .executeTakeFirst();
    if (!found) throw publisherNotFound();
  }
  const taken = await db
    .selectFrom("users")
    .select("id")
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", input.email))
    .executeTakeFirst();
  if (taken) throw emailTaken();
  // Shown once; in production it travels in the invitation email, never stored in clear.
  const invite_token = `inv_${randomBase62(40)}`;
  const row = await db
    .insertInto("invitations")
    .values({
      id: `ivt_${randomBase62(16)}`,
      tenant_id: caller.tenant_id,
      email: input.email,
      role: input.role,
      advertiser_id: input.advertiser_id ?? null,
      publisher_id: input.publisher_id ?? null,
      token_hash: await sha256Hex(invite_token),
      invited_by: caller.user_id,
      expires_at: new Date(Date.now() + INVITATION_TTL_SECONDS * 1000),
    })
    .returning(INVITATION_COLUMNS)
    .executeTakeFirstOrThrow();
  return { ...toInvitation(row), invite_token };
}

export function listInvitations(
  db: Kysely<Database>,
  tenantId: string,
  query: ListInvitationsInput,
): Promise<Page<Invitation>> {
  const { status } = query;
  const now = new Date();
  return paginate(
    db
      .selectFrom("invitations")
      .select(INVITATION_COLUMNS)
      .where("tenant_id", "=", tenantId)
      .$if(status === "accepted", (qb) => qb.where("accepted_at", "is not", null))
      .$if(status === "pending", (qb) => qb.where("accepted_at", "is", null).where("expires_at", ">", now))
      .$if(status === "expired", (qb) => qb.where("accepted_at", "is", null).where("expires_at", "<=", now)),
    "invitations",
    query,
    toInvitation,
  );
}

/** Revokes a pending invitation by expiring it now; NOT_FOUND when accepted or not in the network. */
export async function revokeInvitationOrThrow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<Invitation> {
  const row = await db
    .updateTable("invitations")
    .set({ expires_at: new Date() })
    .where("id", "=", id)
    .where("tenant_id", "=", tenantId)
    .where("accepted_at", "is", null)
    .returning(INVITATION_COLUMNS)
    .executeTakeFirst();
  if (!row) throw invitationNotFound();
  return toInvitation(row);
}
