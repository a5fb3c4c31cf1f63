// POST /api/conversions/{id}/status — a signed-in advertiser (their offers' conversions) or network
// admin (any of the network's) approves or rejects a conversion from the dashboard. The same
// transitions, history, rollup move and webhook fan-out as the API-key route beside it.

import {
  ApiError,
  ConversionStatusChangeBodySchema,
  ConversionStatusDataSchema,
  IdParamSchema,
} from "@afftrack/core";
import { changeConversionStatus, getAdvertiserOrThrow } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";
import { answerStatusChange } from "../../../../services/conversion-status";

export function registerConversionStatusById(app: Hono<AppEnv>): void {
  app.post(
    "/api/conversions/:id/status",
    describe({
      tag: "Analytics",
      summary: "Approve or reject a conversion (dashboard)",
      description:
        "pending → approved or rejected, approved → rejected (a reversal); rejected is final, and " +
        "any other change is 409 CONFLICT. Setting the status a conversion already has changes " +
        "nothing. Advertisers change their own offers' conversions (another advertiser's is 404), " +
        "network admins any of the network's; publishers are refused. A signed-in user is not a " +
        "server, so the offer's postback IP allowlist does not apply.",
      auth: "jwt",
      response: ConversionStatusDataSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
      requestExample: { status: "approved", reason: "Order shipped" },
      example: {
        success: true,
        message: "Conversion status updated",
        data: {
          conversion_id: "conv_abc123",
          transaction_id: "txn_abc123",
          previous_status: "pending",
          status: "approved",
        },
      },
    }),
    requireAuth("network_admin", "advertiser"),
    validate("param", IdParamSchema),
    validate("json", ConversionStatusChangeBodySchema),
    async (c) => {
      const caller = callerOf(c);
      const input = c.req.valid("json");
      const db = c.get("db")();
      if (caller.role === "advertiser") {
        // As the API-key route (only an active advertiser's keys work): a suspended advertiser's
        // users may not move payouts.
        const own = await getAdvertiserOrThrow(db, caller.tenant_id, caller.advertiser_id as string);
        if (own.status !== "active") throw new ApiError("FORBIDDEN", "Your advertiser account is suspended");
      }
      const result = await changeConversionStatus(db, {
        tenantId: caller.tenant_id,
        advertiserId: caller.role === "advertiser" ? caller.advertiser_id : null,
        conversionId: c.req.valid("param").id,
        to: input.status,
        reason: input.reason,
        source: "dashboard",
        clientIp: null,
        skipIpAllowlist: true,
      });
      return answerStatusChange(c, result);
    },
  );
}
