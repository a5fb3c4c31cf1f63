// POST /api/auth/logout — revokes a refresh token; the access token runs out by itself (15 min).

import { RefreshBody, successBody } from "@afftrack/core";
import { revokeRefreshToken } from "@afftrack/db";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";

export function registerAuthLogout(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/logout",
    describe({
      tag: "Accounts",
      summary: "Log out (revoke a refresh token)",
      auth: "none",
      response: v.object({ revoked: v.literal(true) }),
      errors: [],
    }),
    validate("json", RefreshBody),
    async (c) => {
      await revokeRefreshToken(c.get("db")(), c.req.valid("json").refresh_token);
      return c.json(successBody({ revoked: true as const }, "Logged out"));
    },
  );
}
