// POST /api/auth/login — email and password for a session. Failed logins are counted so
// passwords cannot be brute-forced, and an unknown email costs as much time as a wrong password.

import {
  ApiError,
  decoyPasswordHash,
  hashIp,
  LoginBody,
  SessionSchema,
  sha256Hex,
  successBody,
  verifyPassword,
} from "@afftrack/core";
import { findLoginUser } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";
import { startSession } from "../../../services/sessions";

const LOGIN_FAILURE_LIMIT = 10;
const LOGIN_FAILURE_WINDOW_SECONDS = 900;
/** Failed logins one client may make across all accounts in the window. */
const CLIENT_FAILURE_LIMIT = 50;

/**
 * Failed logins are counted per (email, client) and per client: guesses from one address lock that
 * address out of that account without locking the real user out from theirs, and a client spraying
 * passwords over many accounts is stopped too. Clients are keyed by the daily IP hash, never the IP.
 */
async function failureKeys(c: AppContext, email: string) {
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  const client = await hashIp(c.get("config").ipHashSecret, ip);
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

export function registerAuthLogin(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/login",
    describe({
      tag: "Accounts",
      summary: "Log in",
      description: "Ten failed logins for one email from one client lock that pair out for 15 minutes (429).",
      auth: "none",
      response: SessionSchema,
      errors: ["UNAUTHORIZED", "RATE_LIMITED"],
    }),
    validate("json", LoginBody),
    async (c) => {
      const body = c.req.valid("json");
      await checkLoginThrottle(c, body.email);
      const db = c.get("db")();
      const row = await findLoginUser(db, body.email);
      // Unknown emails cost one PBKDF2 run too, so timing does not tell which accounts exist.
      const ok = await verifyPassword(body.password, row?.password_hash ?? (await decoyPasswordHash()));
      if (!row || !ok) {
        await recordLoginFailure(c, body.email);
        throw new ApiError("UNAUTHORIZED", "Invalid email or password");
      }
      const { password_hash: _, ...user } = row;
      return c.json(successBody(await startSession(db, c.get("config").jwtSecret, user)));
    },
  );
}
