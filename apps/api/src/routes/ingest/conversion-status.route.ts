// POST /api/conversions/status — the advertiser moves a conversion pending → approved/rejected (or
// reverses an approval), by conversion_id or transaction_id; every change is kept in the history.

import { ApiError, ConversionStatusBodySchema, successBody } from "@afftrack/core";
import { changeConversionStatus } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { apiKeyOf } from "../../middleware/api-key-auth";
import { jsonBodyOf } from "../../middleware/body-limit";
import { parseOrThrow } from "../../services/ingest";
import { ingestGuards } from "./guards";

export interface ConversionStatusData {
  conversion_id: string;
  transaction_id: string;
  previous_status: string;
  status: string;
}

export function registerConversionStatus(app: Hono<AppEnv>): void {
  app.post("/api/conversions/status", ingestGuards({ serverToServer: true }), async (c) => {
    const input = parseOrThrow(ConversionStatusBodySchema, jsonBodyOf(c));
    const result = await changeConversionStatus(c.get("db")(), {
      advertiserId: apiKeyOf(c).advertiser_id,
      conversionId: input.conversion_id,
      transactionId: input.transaction_id,
      to: input.status,
      reason: input.reason,
      source: "api",
    });
    if (result.kind === "not_found") throw new ApiError("NOT_FOUND", "Conversion not found");
    if (result.kind === "invalid_transition") {
      throw new ApiError("CONFLICT", `A ${result.from} conversion cannot become ${result.to}`);
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
  });
}
