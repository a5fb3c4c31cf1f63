// POST /api/conversions/status — the advertiser moves a conversion pending → approved/rejected (or
// reverses an approval), by conversion_id or transaction_id; every change is kept in the history.

import {
  ApiError,
  ConversionStatusBodySchema,
  type ConversionStatusData,
  ConversionStatusDataSchema,
  successBody,
} from "@afftrack/core";
import { changeConversionStatus } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { apiKeyOf } from "../../../middleware/api-key-auth";
import { INGEST_GUARD_ERRORS, ingestGuards } from "../../../middleware/ingest-guards";
import { describe, validate } from "../../../openapi/route";
import { fanOutConversion } from "../../../services/fanout";
import { requestOriginOf } from "../../../services/ingest";

export function registerConversionStatus(app: Hono<AppEnv>): void {
  app.post(
    "/api/conversions/status",
    describe({
      tag: "Ingestion",
      summary: "Change a conversion's status",
      description:
        "pending → approved or rejected, approved → rejected (a reversal); rejected is final. Setting " +
        "the status a conversion already has changes nothing. Server-to-server: the advertiser's " +
        "postback IP allowlist and that of the conversion's offer apply.",
      auth: "api_key",
      response: ConversionStatusDataSchema,
      errors: [...INGEST_GUARD_ERRORS, "IP_NOT_ALLOWED", "NOT_FOUND", "CONFLICT"],
      requestExample: {
        api_key: "your_api_key",
        advertiser_id: "your_advertiser_id",
        transaction_id: "txn_abc123",
        status: "rejected",
        reason: "Order refunded",
        timestamp: 1234567890000,
        nonce: "random_32_char_string",
        signature: "hmac_sha256_signature",
      },
      example: {
        success: true,
        message: "Conversion status updated",
        data: {
          conversion_id: "conv_abc123",
          transaction_id: "txn_abc123",
          previous_status: "approved",
          status: "rejected",
        },
      },
    }),
    ingestGuards({ serverToServer: true }),
    validate("json", ConversionStatusBodySchema),
    async (c) => {
      const input = c.req.valid("json");
      const result = await changeConversionStatus(c.get("db")(), {
        advertiserId: apiKeyOf(c).advertiser_id,
        conversionId: input.conversion_id,
        transactionId: input.transaction_id,
        to: input.status,
        reason: input.reason,
        source: "api",
        clientIp: requestOriginOf(c).ip,
      });
      if (result.kind === "not_found") throw new ApiError("NOT_FOUND", "Conversion not found");
      if (result.kind === "ip_not_allowed") {
        throw new ApiError("IP_NOT_ALLOWED", "Client IP is not in the offer's postback allowlist");
      }
      if (result.kind === "invalid_transition") {
        throw new ApiError("CONFLICT", `A ${result.from} conversion cannot become ${result.to}`);
      }
      if (result.kind === "changed") {
        fanOutConversion(c, {
          type: "conversion.updated",
          conversion_id: result.id,
          status: result.to,
          previous_status: result.from,
        });
      }
      const data: ConversionStatusData =
        result.kind === "unchanged"
          ? {
              conversion_id: result.id,
              transaction_id: result.transaction_id,
              previous_status: result.status,
              status: result.status,
            }
          : {
              conversion_id: result.id,
              transaction_id: result.transaction_id,
              previous_status: result.from,
              status: result.to,
            };
      return c.json(successBody(data, "Conversion status updated"));
    },
  );
}
