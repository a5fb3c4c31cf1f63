// POST /api/conversions/status — the advertiser moves a conversion pending → approved/rejected (or
// reverses an approval), by conversion_id or transaction_id; every change is kept in the history.

import { ConversionStatusBodySchema, ConversionStatusDataSchema } from "@afftrack/core";
import { changeConversionStatus } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { apiKeyOf } from "../../../middleware/api-key-auth";
import { INGEST_GUARD_ERRORS, ingestGuards } from "../../../middleware/ingest-guards";
import { describe, validate } from "../../../openapi/route";
import { answerStatusChange } from "../../../services/conversion-status";
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
      return answerStatusChange(c, result);
    },
  );
}
