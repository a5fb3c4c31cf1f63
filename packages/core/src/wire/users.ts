// Users of a network and invitations into it: what a network admin sends to list users and to
// invite, list and revoke invitations, and what those endpoints answer.

import * as v from "valibot";
import { UserRoleSchema } from "./auth";
import { EmailSchema, IdSchema, PageQueryEntries, SearchSchema, TimestampSchema } from "./fields";

export const ListUsersQuery = v.strictObject({
  ...PageQueryEntries,
  role: v.optional(UserRoleSchema),
  q: SearchSchema,
});
export type ListUsersInput = v.InferOutput<typeof ListUsersQuery>;

export const UserSchema = v.object({
  id: IdSchema,
  email: v.string(),
  name: v.nullable(v.string()),
  role: UserRoleSchema,
  advertiser_id: v.nullable(IdSchema),
  publisher_id: v.nullable(IdSchema),
  created_at: TimestampSchema,
});
export type User = v.InferOutput<typeof UserSchema>;

/** An invitation binds the new user to a role and, for advertiser or publisher users, to that account. */
export const CreateInvitationBody = v.pipe(
  v.strictObject({
    email: EmailSchema,
    role: UserRoleSchema,
    advertiser_id: v.optional(IdSchema),
    publisher_id: v.optional(IdSchema),
  }),
  v.forward(
    v.check(
      (b) => (b.role === "advertiser") === (b.advertiser_id !== undefined),
      "required for role advertiser and only for it",
    ),
    ["advertiser_id"],
  ),
  v.forward(
    v.check(
      (b) => (b.role === "publisher") === (b.publisher_id !== undefined),
      "required for role publisher and only for it",
    ),
    ["publisher_id"],
  ),
);
export type CreateInvitationInput = v.InferOutput<typeof CreateInvitationBody>;

export const INVITATION_STATUSES = ["pending", "accepted", "expired"] as const;
const InvitationStatusSchema = v.picklist(INVITATION_STATUSES);

export const ListInvitationsQuery = v.strictObject({
  ...PageQueryEntries,
  status: v.optional(InvitationStatusSchema),
});
export type ListInvitationsInput = v.InferOutput<typeof ListInvitationsQuery>;

export const InvitationSchema = v.object({
  id: IdSchema,
  email: v.string(),
  role: UserRoleSchema,
  advertiser_id: v.nullable(IdSchema),
  publisher_id: v.nullable(IdSchema),
  status: InvitationStatusSchema,
  expires_at: TimestampSchema,
  accepted_at: v.nullable(TimestampSchema),
  created_at: TimestampSchema,
});
export type Invitation = v.InferOutput<typeof InvitationSchema>;

export const CreatedInvitationSchema = v.object({
  ...InvitationSchema.entries,
  invite_token: v.pipe(
    v.string(),
    v.description("Shown once; the invitee sends it to /api/auth/accept-invite"),
  ),
});
export type CreatedInvitation = v.InferOutput<typeof CreatedInvitationSchema>;
