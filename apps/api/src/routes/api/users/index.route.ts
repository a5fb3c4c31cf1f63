// GET /api/users — network admins list the users of their network.

import { ListUsersQuery, pageOf, successBody, UserSchema } from "@afftrack/core";
import { listUsers } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerUsers(app: Hono<AppEnv>): void {
  app.get(
    "/api/users",
    describe({
      tag: "Users",
      summary: "List the network's users",
      auth: "jwt",
      response: pageOf(UserSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListUsersQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(successBody(await listUsers(c.get("db")(), caller.tenant_id, c.req.valid("query"))));
    },
  );
}
