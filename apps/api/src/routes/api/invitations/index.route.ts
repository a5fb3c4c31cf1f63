// /api/invitations — network admins invite users into their network (the token is shown once)
// and list the invitations, pending, accepted or expired.

import {
  CreatedInvitationSchema,
  CreateInvitationBody,
  InvitationSchema,
  ListInvitationsQuery,
  pageOf,
  successBody,
} from "@afftrack/core";
import { createInvitation, listInvitations } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerInvitations(app: Hono<AppEnv>): void {
  app.post(
    "/api/invitations",
    describe({
      tag: "Users",
      summary: "Invite a user",
      description:
        "Advertiser and publisher users are bound to one advertiser or publisher of the network. " +
        "The invite token is shown once; the invitee sends it to /api/auth/accept-invite within 7 days.",
      auth: "jwt",
      status: 201,
      response: CreatedInvitationSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("json", CreateInvitationBody),
    async (c) => {
      const caller = callerOf(c);
      const invitation = await createInvitation(c.get("db")(), caller, c.req.valid("json"));
      return c.json(successBody(invitation, "Invitation created"), 201);
    },
  );

  app.get(
    "/api/invitations",
    describe({
      tag: "Users",
      summary: "List the network's invitations",
      auth: "jwt",
      response: pageOf(InvitationSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListInvitationsQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(
        successBody(await listInvitations(c.get("db")(), caller.tenant_id, c.req.valid("query"))),
      );
    },
  );
}
