// POST /api/link-secrets/rotate — a new link-signing secret for an advertiser. The old one keeps
// verifying for the longest link TTL, so links already handed out keep counting.

import { RotatedLinkSecretSchema, RotateLinkSecretBody, successBody } from "@afftrack/core";
import {
  advertiserScopeOrThrow,
  rotateSecret,
  SECRET_PROPAGATION_SECONDS,
  trackingCodesOfAdvertiser,
} from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { syncLinkRecords } from "../../../services/edge-sync";

export function registerLinkSecretRotate(app: Hono<AppEnv>): void {
  app.post(
    "/api/link-secrets/rotate",
    describe({
      tag: "Link secrets",
      summary: "Rotate the link-signing secret",
      description:
        'A network admin names the advertiser (`advertiser_id`). The new secret is shown once; new links are signed with it from `signing_from`. Earlier secrets keep verifying until `previous_valid_until` (the longest link TTL), or stop at once with `retire_previous: "now"` (a leaked secret; links signed in the next 30 s may meet edges that do not know the new secret yet).',
      auth: "jwt",
      status: 201,
      response: RotatedLinkSecretSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "advertiser"),
    validate("json", RotateLinkSecretBody),
    async (c) => {
      const caller = callerOf(c);
      const db = c.get("db")();
      const body = c.req.valid("json");
      const advertiser_id = await advertiserScopeOrThrow(db, caller, body.advertiser_id);
      const { current, retiredUntil } = await rotateSecret(
        db,
        { tenant_id: caller.tenant_id, advertiser_id },
        { retireNow: body.retire_previous === "now" },
      );
      await syncLinkRecords(
        db,
        c.get("redis"),
        await trackingCodesOfAdvertiser(db, advertiser_id),
        c.get("log"),
      );
      return c.json(
        successBody(
          {
            id: current.id,
            secret: current.secret,
            created_at: current.created_at.toISOString(),
            // Edges learn the new secret within the propagation window; sign with it from then on.
            signing_from: new Date(
              current.created_at.getTime() + SECRET_PROPAGATION_SECONDS * 1000,
            ).toISOString(),
            previous_valid_until: retiredUntil.toISOString(),
          },
          "Link-signing secret rotated",
        ),
        201,
      );
    },
  );
}
