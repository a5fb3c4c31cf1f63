// POST /api/webhooks/{id}/rotate — a new whsec_ secret, signing at once; the old one keeps signing
// beside it for the overlap (24 h by default), so `webhook-signature` carries both meanwhile.

import {
  DEFAULT_SECRET_OVERLAP_HOURS,
  IdParamSchema,
  RotatedWebhookSchema,
  RotateSecretBody,
  successBody,
} from "@afftrack/core";
import {
  type EndpointKind,
  getEndpointOrThrow,
  rotateEndpointSecret,
  toPostbackUrl,
  toWebhookEndpoint,
} from "@afftrack/db";
import type { Hono } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";
import { keyringOf } from "../../../../services/webhook-endpoints";

/** Shared with /api/postback-urls/{id}/rotate. */
export function registerRotateFor(
  app: Hono<AppEnv>,
  kind: EndpointKind,
  path: string,
  tag: string,
  response: v.GenericSchema,
): void {
  app.post(
    path,
    describe({
      tag,
      summary: "Rotate the signing secret",
      description:
        "The new secret is in this answer only; the old one signs too until `previous_secrets_expire_at`.",
      auth: "jwt",
      status: 201,
      response,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth(),
    validate("param", IdParamSchema),
    validate("json", RotateSecretBody),
    async (c) => {
      const db = c.get("db")();
      const endpoint = await getEndpointOrThrow(db, callerOf(c), kind, c.req.valid("param").id);
      const hours = c.req.valid("json").overlap_hours ?? DEFAULT_SECRET_OVERLAP_HOURS;
      const issued = await rotateEndpointSecret(db, endpoint, hours * 3600, await keyringOf(c));
      const view = kind === "webhook" ? toWebhookEndpoint(endpoint) : toPostbackUrl(endpoint);
      return c.json(
        successBody({ endpoint: view, ...issued }, "Secret rotated; store the new secret now"),
        201,
      );
    },
  );
}

export function registerWebhookRotate(app: Hono<AppEnv>): void {
  registerRotateFor(app, "webhook", "/api/webhooks/:id/rotate", "Webhooks", RotatedWebhookSchema);
}
