// POST /api/sdk/conversion — a conversion reported by the SDK from the visitor's device (the
// offer's geo rules apply); answers with the recorded conversion.

import {
  ConversionBodySchema,
  SdkConversionDataSchema,
  SEED_CONVERSION_DATA,
  SEED_CONVERSION_REQUEST,
  seedAnswer,
  successBody,
} from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { apiKeyOf } from "../../../middleware/api-key-auth";
import { INGEST_GUARD_ERRORS, ingestGuards } from "../../../middleware/ingest-guards";
import { describe, validate } from "../../../openapi/route";
import { fanOutConversion } from "../../../services/fanout";
import { ingestDepsOf, recordConversion, requestOriginOf, sdkInfoOf } from "../../../services/ingest";

export function registerSdkConversion(app: Hono<AppEnv>): void {
  app.post(
    "/api/sdk/conversion",
    describe({
      tag: "Ingestion",
      summary: "Track a conversion from the SDK",
      description:
        "Unique per advertiser and `transaction_id`. With a `click_id` of the advertiser the click's " +
        "offer and publisher are credited, within the offer's attribution window and per-click cap. " +
        "An advertiser or offer with a postback IP allowlist gets SDK conversions as `pending`, to " +
        "approve through `/api/conversions/status`.",
      auth: "api_key",
      response: SdkConversionDataSchema,
      errors: [...INGEST_GUARD_ERRORS, "INVALID_OFFER", "GEO_BLOCKED", "DUPLICATE_TRANSACTION"],
      requestExample: SEED_CONVERSION_REQUEST,
      example: seedAnswer("Conversion tracked successfully", SEED_CONVERSION_DATA),
    }),
    ingestGuards(),
    validate("json", ConversionBodySchema),
    async (c) => {
      const conversion = await recordConversion(ingestDepsOf(c), {
        key: apiKeyOf(c),
        input: c.req.valid("json"),
        source: "sdk",
        sdk: sdkInfoOf(c),
        geoCountry: requestOriginOf(c).country,
      });
      fanOutConversion(c, {
        type: "conversion.created",
        conversion_id: conversion.conversion_id,
        status: conversion.status,
      });
      return c.json(successBody(conversion, "Conversion tracked successfully"));
    },
  );
}
