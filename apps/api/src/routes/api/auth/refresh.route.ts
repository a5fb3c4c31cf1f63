// POST /api/auth/refresh — a refresh token for a new session. Each token works once; a spent
// token presented again ends every session of its user (it was copied).

import { RefreshBody, SessionSchema, successBody } from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";
import { refreshSession } from "../../../services/sessions";

export function registerAuthRefresh(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/refresh",
    describe({
      tag: "Accounts",
      summary: "Exchange a refresh token for a new session",
      description: "The token is spent; presenting it again revokes every session of the user.",
      auth: "none",
      response: SessionSchema,
      errors: ["UNAUTHORIZED"],
    }),
    validate("json", RefreshBody),
    async (c) => {
      const { refresh_token } = c.req.valid("json");
      return c.json(
        successBody(await refreshSession(c.get("db")(), c.get("config").jwtSecret, refresh_token)),
      );
    },
  );
}
