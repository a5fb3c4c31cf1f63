// Login sessions of the management API: a short-lived JWT access token plus an opaque refresh
// token (stored hashed by packages/db, rotated on every use). This module signs the access token
// and puts the session together; the refresh tokens' rules live with their SQL.

import { ACCESS_TOKEN_TTL_SECONDS, type Session, type SessionUser, signJwt } from "@afftrack/core";
import {
  createRefreshToken,
  type Database,
  REFRESH_TOKEN_TTL_SECONDS,
  type RefreshToken,
  rotateRefreshToken,
} from "@afftrack/db";
import type { Kysely } from "kysely";

/** The session answer for `user` holding `refresh`: signs a fresh access token. */
export async function sessionOf(
  jwtSecret: string,
  user: SessionUser,
  refresh: RefreshToken,
): Promise<Session> {
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
  return {
    access_token,
    refresh_token: refresh.token,
    token_type: "Bearer",
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_expires_in: REFRESH_TOKEN_TTL_SECONDS,
    user,
  };
}

/** A new session for a user who just proved who they are. */
export async function startSession(
  db: Kysely<Database>,
  jwtSecret: string,
  user: SessionUser,
): Promise<Session> {
  return sessionOf(jwtSecret, user, await createRefreshToken(db, user));
}

/** Exchanges a refresh token for a new session; the old token is spent. */
export async function refreshSession(
  db: Kysely<Database>,
  jwtSecret: string,
  token: string,
): Promise<Session> {
  const { user, refresh } = await rotateRefreshToken(db, token);
  return sessionOf(jwtSecret, user, refresh);
}
