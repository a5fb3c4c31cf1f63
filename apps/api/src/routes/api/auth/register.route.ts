// POST /api/auth/register — anyone may register a network; its first user is the network admin,
// who gets a session at once. Throttled per client and overall (services/auth-throttle.ts), and a
// taken email costs the same password hash as a new one and is refused without saying why.

import { ApiError, hashPassword, RegisterBody, RegisteredSchema, successBody } from "@afftrack/core";
import { registerNetwork } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";
import { takeRegistration } from "../../../services/auth-throttle";
import { sessionOf } from "../../../services/sessions";

export function registerAuthRegister(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/register",
    describe({
      tag: "Accounts",
      summary: "Register a network and its first admin",
      description:
        "At most 5 registrations per client per hour, and a ceiling for everyone (429 RATE_LIMITED with Retry-After). A registration that cannot be completed (for instance an email already in use) is 409 CONFLICT with one generic message, after the same password hashing as a successful one.",
      auth: "none",
      status: 201,
      response: RegisteredSchema,
      errors: ["CONFLICT", "RATE_LIMITED"],
    }),
    validate("json", RegisterBody),
    async (c) => {
      await takeRegistration(c);
      const { password, ...body } = c.req.valid("json");
      // Hashed before the email is looked at, so a taken email takes as long as a new one.
      const password_hash = await hashPassword(password);
      try {
        const { user, refresh, network } = await registerNetwork(c.get("db")(), { ...body, password_hash });
        const session = await sessionOf(c.get("config").jwtSecret, user, refresh);
        return c.json(successBody({ ...session, network }, "Network registered"), 201);
      } catch (err) {
        if (err instanceof ApiError && err.code === "CONFLICT") {
          throw new ApiError(
            "CONFLICT",
            "Registration could not be completed with these details; if you have an account, log in",
          );
        }
        throw err;
      }
    },
  );
}
