// POST /api/auth/register — anyone may register a network; its first user is the network admin,
// who gets a session at once.

import { hashPassword, RegisterBody, RegisteredSchema, successBody } from "@afftrack/core";
import { registerNetwork } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";
import { sessionOf } from "../../../services/sessions";

export function registerAuthRegister(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/register",
    describe({
      tag: "Accounts",
      summary: "Register a network and its first admin",
      auth: "none",
      status: 201,
      response: RegisteredSchema,
      errors: ["CONFLICT"],
    }),
    validate("json", RegisterBody),
    async (c) => {
      const { password, ...body } = c.req.valid("json");
      const { user, refresh, network } = await registerNetwork(c.get("db")(), {
        ...body,
        password_hash: await hashPassword(password),
      });
      const session = await sessionOf(c.get("config").jwtSecret, user, refresh);
      return c.json(successBody({ ...session, network }, "Network registered"), 201);
    },
  );
}
