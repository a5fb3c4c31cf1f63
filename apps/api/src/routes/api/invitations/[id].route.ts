// /api/invitations/{id} — network admins revoke a pending invitation.

import { IdParamSchema, InvitationSchema, successBody } from "@afftrack/core";
import { revokeInvitationOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerInvitation(app: Hono<AppEnv>): void {
  app.delete(
    "/api/invitations/:id",
    describe({
      tag: "Users",
      summary: "Revoke a pending invitation",
      description: "An accepted invitation cannot be revoked (404).",
      auth: "jwt",
      response: InvitationSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const invitation = await revokeInvitationOrThrow(
        c.get("db")(),
        caller.tenant_id,
        c.req.valid("param").id,
      );
      return c.json(successBody(invitation, "Invitation revoked"));
    },
  );
}
