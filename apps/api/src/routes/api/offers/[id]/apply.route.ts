// POST /api/offers/{id}/apply — a publisher applies to a private offer that accepts applications;
// the offer's advertiser or a network admin decides (POST /api/applications/{id}/status).

import { ApplicationSchema, ApplyBodySchema, IdParamSchema, successBody } from "@afftrack/core";
import { applyToOfferOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerOfferApply(app: Hono<AppEnv>): void {
  app.post(
    "/api/offers/:id/apply",
    describe({
      tag: "Offers",
      summary: "Apply to a private offer",
      description:
        "For private offers with `accepts_applications`. 201 with a pending application; applying " +
        "again while it is pending answers 200 with the same one. 409 CONFLICT when the offer is " +
        "open to the publisher already (join it) or their application was rejected.",
      auth: "jwt",
      status: 201,
      response: ApplicationSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
      requestExample: { message: "Coupon site, 40k monthly visitors from the US" },
    }),
    requireAuth("publisher"),
    validate("param", IdParamSchema),
    validate("json", ApplyBodySchema),
    async (c) => {
      const { application, created } = await applyToOfferOrThrow(
        c.get("db")(),
        callerOf(c),
        c.req.valid("param").id,
        c.req.valid("json").message,
      );
      return c.json(
        successBody(application, created ? "Application sent" : "Application pending"),
        created ? 201 : 200,
      );
    },
  );
}
