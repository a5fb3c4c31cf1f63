// POST /api/applications/{id}/status — the offer's advertiser or a network admin approves a
// publisher's application (admitting them to the offer, whose link records are then rewritten so
// the edge counts their clicks) or rejects it.

import { ApplicationDecisionBodySchema, ApplicationSchema, IdParamSchema, successBody } from "@afftrack/core";
import { decideApplicationOrThrow, trackingCodesOfOffer } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";
import { syncLinkRecords } from "../../../../services/edge-sync";

export function registerApplicationStatus(app: Hono<AppEnv>): void {
  app.post(
    "/api/applications/:id/status",
    describe({
      tag: "Offers",
      summary: "Approve or reject an offer application",
      description:
        "pending → approved (the publisher is added to the offer's `allowed_publisher_ids` and may " +
        "join it) or rejected; deciding the same way again changes nothing, any other change is 409 " +
        "CONFLICT. Advertisers decide applications to their own offers (others' are 404), network " +
        "admins any of the network's; publishers are refused.",
      auth: "jwt",
      response: ApplicationSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
      requestExample: { status: "approved" },
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    validate("json", ApplicationDecisionBodySchema),
    async (c) => {
      const db = c.get("db")();
      const result = await decideApplicationOrThrow(
        db,
        callerOf(c),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      // As after an offer edit: a link the publisher kept from before counts again. Also on an
      // unchanged approval: the retry of an approval whose sync failed (503) must still sync.
      if (result.application.status === "approved") {
        const offerId = result.application.offer_id;
        await syncLinkRecords(db, c.get("redis"), await trackingCodesOfOffer(db, offerId), c.get("log"));
      }
      return c.json(
        successBody(
          result.application,
          result.kind === "unchanged" ? "Application unchanged" : `Application ${result.application.status}`,
        ),
      );
    },
  );
}
