// POST /api/sdk/conversion — a conversion reported by the SDK from the visitor's device (the
// offer's geo rules apply); answers with the recorded conversion.

import { ConversionBodySchema, successBody } from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { apiKeyOf } from "../../middleware/api-key-auth";
import { jsonBodyOf } from "../../middleware/body-limit";
import {
  ingestDepsOf,
  parseOrThrow,
  type RecordedConversion,
  recordConversion,
  requestOriginOf,
  sdkInfoOf,
} from "../../services/ingest";
import { ingestGuards } from "./guards";

export type SdkConversionData = Pick<
  RecordedConversion,
  "conversion_id" | "offer_id" | "transaction_id" | "amount" | "currency" | "status"
>;

export function registerSdkConversion(app: Hono<AppEnv>): void {
  app.post("/api/sdk/conversion", ingestGuards(), async (c) => {
    const sdk = sdkInfoOf(c);
    const input = parseOrThrow(ConversionBodySchema, jsonBodyOf(c));
    const r = await recordConversion(ingestDepsOf(c), {
      key: apiKeyOf(c),
      input,
      source: "sdk",
      sdk,
      geoCountry: requestOriginOf(c).country,
    });
    const data: SdkConversionData = {
      conversion_id: r.conversion_id,
      offer_id: r.offer_id,
      transaction_id: r.transaction_id,
      amount: r.amount,
      currency: r.currency,
      status: r.status,
    };
    return c.json(successBody(data, "Conversion tracked successfully"));
  });
}
