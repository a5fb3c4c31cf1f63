// Accounts: register a network with its first admin, log in, refresh, log out, who am I, and
// accept an invitation. Failed logins are counted per email so passwords cannot be brute-forced.

import {
  ApiError,
  decoyPasswordHash,
  hashIp,
  hashPassword,
  newId,
  sha256Hex,
  successBody,
  verifyPassword,
} from "@afftrack/core";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppContext, AppEnv } from "../../context";
import { callerOf, jwtSecretOf, requireAuth } from "../../middleware/jwt-auth";
import {
  findUserByEmail,
  issueSession,
  loadSessionUser,
  publicSession,
  refreshSession,
  revokeRefreshToken,
} from "../../services/sessions";
import { emailSchema, isUniqueViolation, nameSchema, notFound, passwordSchema, readBody } from "./common";

const LOGIN_FAILURE_LIMIT = 10;
const LOGIN_FAILURE_WINDOW_SECONDS = 900;
/** Failed logins one client may make across all accounts in the window. */
const CLIENT_FAILURE_LIMIT = 50;

const RegisterBody = v.strictObject({
  network_name: nameSchema,
  email: emailSchema,
  password: passwordSchema,
  name: v.optional(nameSchema),
});
const LoginBody = v.strictObject({ email: emailSchema, password: v.pipe(v.string(), v.maxLength(256)) });
const RefreshBody = v.strictObject({ refresh_token: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) });
const AcceptInviteBody = v.strictObject({
  invite_token: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  password: passwordSchema,
  name: v.optional(nameSchema),
});

/**
 * Failed logins are counted per (email, client) and per client: guesses from one address lock that
 * address out of that account without locking the real user out from theirs, and a client spraying
 * passwords over many accounts is stopped too. Clients are keyed by the daily IP hash, never the IP.
 */
async function failureKeys(c: AppContext, email: string) {
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  const client = await hashIp(c.env.IP_HASH_SECRET, ip);
  return { account: `login:fail:${await sha256Hex(email)}:${client}`, client: `login:fail:client:${client}` };
}

async function checkLoginThrottle(c: AppContext, email: string) {
  const keys = await failureKeys(c, email);
  const [account, client] = await c
    .get("redis")
    .mget<[number | null, number | null]>(keys.account, keys.client);
  if (Number(account ?? 0) >= LOGIN_FAILURE_LIMIT || Number(client ?? 0) >= CLIENT_FAILURE_LIMIT) {
    throw new ApiError("RATE_LIMITED", "Too many failed logins; try again later");
  }
}

async function recordLoginFailure(c: AppContext, email: string) {
  const keys = await failureKeys(c, email);
  const p = c.get("redis").pipeline();
  p.incr(keys.account);
  p.expire(keys.account, LOGIN_FAILURE_WINDOW_SECONDS);
  p.incr(keys.client);
  p.expire(keys.client, LOGIN_FAILURE_WINDOW_SECONDS);
  await p.exec();
}

export function registerAuthRoutes(app: Hono<AppEnv>): void {
  app.post("/api/auth/register", async (c) => {
    const body = await readBody(c, RegisterBody);
    const db = c.get("db")();
    const password_hash = await hashPassword(body.password);
    const tenant_id = newId("net");
    const user = {
      id: newId("usr"),
      tenant_id,
      email: body.email,
      name: body.name ?? null,
      role: "network_admin" as const,
      advertiser_id: null,
      publisher_id: null,
    };
    try {
      const session = await db.transaction().execute(async (tx) => {
        await tx.insertInto("tenants").values({ id: tenant_id, name: body.network_name }).execute();
        await tx
          .insertInto("users")
          .values({ ...user, password_hash })
          .execute();
        return issueSession(tx, jwtSecretOf(c), user);
      });
      return c.json(
        successBody(
          { ...publicSession(session), network: { id: tenant_id, name: body.network_name } },
          "Network registered",
        ),
        201,
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError("CONFLICT", "Email already registered");
      throw err;
    }
  });

  app.post("/api/auth/login", async (c) => {
    const body = await readBody(c, LoginBody);
    await checkLoginThrottle(c, body.email);
    const row = await findUserByEmail(c.get("db")(), body.email);
    // Unknown emails cost one PBKDF2 run too, so timing does not tell which accounts exist.
    const ok = await verifyPassword(body.password, row?.password_hash ?? (await decoyPasswordHash()));
    if (!row || !ok) {
      await recordLoginFailure(c, body.email);
      throw new ApiError("UNAUTHORIZED", "Invalid email or password");
    }
    const { password_hash: _, ...user } = row;
    const session = await issueSession(c.get("db")(), jwtSecretOf(c), user);
    return c.json(successBody(publicSession(session)));
  });

  app.post("/api/auth/refresh", async (c) => {
    const body = await readBody(c, RefreshBody);
    return c.json(successBody(await refreshSession(c.get("db")(), jwtSecretOf(c), body.refresh_token)));
  });

  app.post("/api/auth/logout", async (c) => {
    const body = await readBody(c, RefreshBody);
    await revokeRefreshToken(c.get("db")(), body.refresh_token);
    return c.json(successBody({ revoked: true }, "Logged out"));
  });

  app.get("/api/auth/me", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const db = c.get("db")();
    const user = await loadSessionUser(db, caller.user_id);
    if (!user || user.tenant_id !== caller.tenant_id)
      throw new ApiError("UNAUTHORIZED", "Invalid access token");
    const network = await db
      .selectFrom("tenants")
      .select(["id", "name"])
      .where("id", "=", caller.tenant_id)
      .executeTakeFirstOrThrow();
    return c.json(successBody({ user, network }));
  });

  app.post("/api/auth/accept-invite", async (c) => {
    const body = await readBody(c, AcceptInviteBody);
    const db = c.get("db")();
    const tokenHash = await sha256Hex(body.invite_token);
    const password_hash = await hashPassword(body.password);
    try {
      const session = await db.transaction().execute(async (tx) => {
        const invite = await tx
          .updateTable("invitations")
          .set({ accepted_at: new Date() })
          .where("token_hash", "=", tokenHash)
          .where("accepted_at", "is", null)
          .where("expires_at", ">", new Date())
          .returning(["id", "tenant_id", "email", "role", "advertiser_id", "publisher_id"])
          .executeTakeFirst();
        if (!invite) throw notFound("Invitation");
        const user = {
          id: newId("usr"),
          tenant_id: invite.tenant_id,
          email: invite.email,
          name: body.name ?? null,
          role: invite.role,
          advertiser_id: invite.advertiser_id,
          publisher_id: invite.publisher_id,
        };
        await tx
          .insertInto("users")
          .values({ ...user, password_hash })
          .execute();
        return issueSession(tx, jwtSecretOf(c), user);
      });
      return c.json(successBody(publicSession(session), "Invitation accepted"), 201);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError("CONFLICT", "Email already registered");
      throw err;
    }
  });
}
