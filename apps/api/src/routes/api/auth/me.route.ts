// GET /api/auth/me — who the access token belongs to, and their network.

import { ApiError, MeSchema, successBody } from "@afftrack/core";
import { getNetwork, getSessionUser } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe } from "../../../openapi/route";

export function registerAuthMe(app: Hono<AppEnv>): void {
  app.get(
    "/api/auth/me",
    describe({
      tag: "Accounts",
      summary: "The caller and their network",
      auth: "jwt",
      response: MeSchema,
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const user = await getSessionUser(db, caller.user_id);
      // A deleted user's token, or one naming another network, is not a session any more.
      if (!user || user.tenant_id !== caller.tenant_id)
        throw new ApiError("UNAUTHORIZED", "Invalid access token");
      return c.json(successBody({ user, network: await getNetwork(db, caller.tenant_id) }));
    },
  );
}
