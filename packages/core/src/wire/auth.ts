// Accounts: what a client sends to register a network, log in, refresh or end a session and
// accept an invitation, and the session every one of them answers with.

import * as v from "valibot";
import { EmailSchema, IdSchema, NameSchema, PasswordSchema } from "./fields";

export const USER_ROLES = ["network_admin", "advertiser", "publisher"] as const;
export const UserRoleSchema = v.picklist(USER_ROLES);

const TokenSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

export const RegisterBody = v.strictObject({
  network_name: NameSchema,
  email: EmailSchema,
  password: PasswordSchema,
  name: v.optional(NameSchema),
});
export type RegisterInput = v.InferOutput<typeof RegisterBody>;

export const LoginBody = v.strictObject({
  email: EmailSchema,
  // Any stored password may be tried; length rules apply when one is chosen.
  password: v.pipe(v.string(), v.maxLength(256)),
});

/** The refresh token to exchange (refresh) or revoke (logout). */
export const RefreshBody = v.strictObject({ refresh_token: TokenSchema });

export const AcceptInviteBody = v.strictObject({
  invite_token: v.pipe(TokenSchema, v.description("The token of the invitation, shown once to the admin")),
  password: PasswordSchema,
  name: v.optional(NameSchema),
});
export type AcceptInviteInput = v.InferOutput<typeof AcceptInviteBody>;

export const SessionUserSchema = v.object({
  id: IdSchema,
  tenant_id: IdSchema,
  email: v.string(),
  name: v.nullable(v.string()),
  role: UserRoleSchema,
  advertiser_id: v.nullable(IdSchema),
  publisher_id: v.nullable(IdSchema),
});
export type SessionUser = v.InferOutput<typeof SessionUserSchema>;

export const NetworkSchema = v.object({ id: IdSchema, name: v.string() });
export type Network = v.InferOutput<typeof NetworkSchema>;

export const SessionSchema = v.object({
  access_token: v.pipe(v.string(), v.description("Bearer JWT for the management API")),
  refresh_token: v.pipe(v.string(), v.description("Exchanged once at /api/auth/refresh for a new session")),
  token_type: v.literal("Bearer"),
  expires_in: v.pipe(v.number(), v.description("Seconds the access token lives")),
  refresh_expires_in: v.pipe(v.number(), v.description("Seconds the refresh token lives")),
  user: SessionUserSchema,
});
export type Session = v.InferOutput<typeof SessionSchema>;

export const RegisteredSchema = v.object({ ...SessionSchema.entries, network: NetworkSchema });

export const MeSchema = v.object({ user: SessionUserSchema, network: NetworkSchema });
