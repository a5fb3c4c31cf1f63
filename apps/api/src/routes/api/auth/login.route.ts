// POST /api/auth/login — email and password for a session. Failed logins are counted so
// passwords cannot be brute-forced (counted before checking, services/auth-throttle.ts), and an unknown email costs as much time as a wrong password.

import {
  ApiError,
  decoyPasswordHash,
  LoginBody,
  SessionSchema,
  successBody,
  verifyPassword,
} from "@afftrack/core";
import { findLoginUser } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";
import { clearLoginAttempts, takeLoginAttempt } from "../../../services/auth-throttle";
import { startSession } from "../../../services/sessions";

export function registerAuthLogin(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/login",
    describe({
      tag: "Accounts",
      summary: "Log in",
      description:
        "Ten failed logins for one email from one client lock that pair out for 15 minutes (429). Each attempt is counted before the password is checked, so concurrent guesses cannot exceed ten.",
      auth: "none",
      response: SessionSchema,
      errors: ["UNAUTHORIZED", "RATE_LIMITED"],
    }),
    validate("json", LoginBody),
    async (c) => {
      const body = c.req.valid("json");
      // Counted before the password is checked (atomically), so racing guesses cannot pass.
      await takeLoginAttempt(c, body.email);
      const db = c.get("db")();
      const row = await findLoginUser(db, body.email);
      // Unknown emails cost one PBKDF2 run too, so timing does not tell which accounts exist.
      const ok = await verifyPassword(body.password, row?.password_hash ?? (await decoyPasswordHash()));
      if (!row || !ok) {
        throw new ApiError("UNAUTHORIZED", "Invalid email or password");
      }
      await clearLoginAttempts(c, body.email);
      const { password_hash: _, ...user } = row;
      return c.json(successBody(await startSession(db, c.get("config").jwtSecret, user)));
    },
  );
}
