// POST /api/auth/accept-invite — the invitee chooses a password and gets a session, bound to the
// role (and advertiser or publisher) of the invitation. Each invitation works once.

import { AcceptInviteBody, hashPassword, SessionSchema, successBody } from "@afftrack/core";
import { acceptInvitation } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { describe, validate } from "../../../openapi/route";
import { sessionOf } from "../../../services/sessions";

export function registerAuthAcceptInvite(app: Hono<AppEnv>): void {
  app.post(
    "/api/auth/accept-invite",
    describe({
      tag: "Accounts",
      summary: "Accept an invitation",
      description: "An unknown, used, revoked or expired invitation is 404.",
      auth: "none",
      status: 201,
      response: SessionSchema,
      errors: ["NOT_FOUND", "CONFLICT"],
    }),
    validate("json", AcceptInviteBody),
    async (c) => {
      const { password, ...body } = c.req.valid("json");
      const { user, refresh } = await acceptInvitation(c.get("db")(), {
        ...body,
        password_hash: await hashPassword(password),
      });
      const session = await sessionOf(c.get("config").jwtSecret, user, refresh);
      return c.json(successBody(session, "Invitation accepted"), 201);
    },
  );
}
