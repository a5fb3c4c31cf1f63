// POST /api/sdk/batch — up to 100 clicks and conversions under one signature, one result per event.
// Each event costs one rate-limit unit; events beyond what the limits grant are answered
// RATE_LIMITED individually. A bad event never stops the others.

import {
  ApiError,
  BatchBodySchema,
  type BatchData,
  BatchDataSchema,
  type BatchEventResult,
  BatchEventSchema,
  describeIssues,
  type ErrorCode,
  MAX_BATCH_EVENTS,
  SEED_CLICK_DATA,
  successBody,
} from "@afftrack/core";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppContext, AppEnv } from "../../../context";
import { apiKeyOf } from "../../../middleware/api-key-auth";
import { INGEST_GUARD_ERRORS, ingestGuards } from "../../../middleware/ingest-guards";
import { rateLimitGrantedOf } from "../../../middleware/rate-limit";
import { describe, validate } from "../../../openapi/route";
import { fanOutConversion } from "../../../services/fanout";
import {
  ingestDepsOf,
  recordConversion,
  recordSdkClick,
  requestOriginOf,
  sdkInfoOf,
} from "../../../services/ingest";

/** Rate-limit units: the number of events when the body has a sane list, else one. */
function eventCount(c: AppContext): number {
  const parsed = c.get("jsonBody");
  const events = parsed?.ok ? parsed.value.events : undefined;
  return Array.isArray(events) && events.length > 0 && events.length <= MAX_BATCH_EVENTS ? events.length : 1;
}

function typeOf(raw: unknown): string | null {
  const t = raw && typeof raw === "object" ? (raw as { type?: unknown }).type : undefined;
  return typeof t === "string" ? t.slice(0, 32) : null;
}

export function registerSdkBatch(app: Hono<AppEnv>): void {
  app.post(
    "/api/sdk/batch",
    describe({
      tag: "Ingestion",
      summary: "Track up to 100 clicks and conversions",
      description:
        "One signature for up to 100 events (`type`: `click` or `conversion`, each with the fields of " +
        "its single endpoint). Each event is one rate-limit unit; events beyond what remains are " +
        "answered `RATE_LIMITED` one by one. Every event gets its own result, in order: a refused " +
        "event (`INVALID_PARAMS`, `INVALID_OFFER`, `GEO_BLOCKED`, `DUPLICATE_TRANSACTION`, ...) " +
        "never stops the others.",
      auth: "api_key",
      response: BatchDataSchema,
      errors: [...INGEST_GUARD_ERRORS],
      requestExample: {
        api_key: "your_api_key",
        advertiser_id: "your_advertiser_id",
        timestamp: 1234567890000,
        nonce: "random_32_char_string",
        signature: "hmac_sha256_signature",
        events: [
          { type: "click", offer_id: "offer_123", tracking_code: "campaign_code", sub_id_1: "source" },
          {
            type: "conversion",
            offer_id: "offer_123",
            transaction_id: "txn_abc123",
            click_id: "click_xyz",
            amount: 29.99,
            currency: "USD",
          },
        ],
      },
      example: {
        success: true,
        message: "Batch processed",
        data: {
          accepted: 1,
          rejected: 1,
          results: [
            {
              index: 0,
              type: "click",
              success: true,
              data: SEED_CLICK_DATA,
            },
            {
              index: 1,
              type: "conversion",
              success: false,
              error: "Transaction txn_abc123 already processed",
              code: "DUPLICATE_TRANSACTION",
            },
          ],
        },
      },
    }),
    ingestGuards({ cost: eventCount }),
    validate("json", BatchBodySchema),
    async (c) => {
      const body = c.req.valid("json");
      const sdk = sdkInfoOf(c);
      const granted = rateLimitGrantedOf(c);
      const deps = ingestDepsOf(c);
      const key = apiKeyOf(c);
      const origin = requestOriginOf(c);
      const results: BatchEventResult[] = [];
      for (const [index, raw] of body.events.entries()) {
        const fail = (code: ErrorCode, error: string): BatchEventResult => ({
          index,
          type: typeOf(raw),
          success: false,
          error,
          code,
        });
        if (index >= granted) {
          results.push(fail("RATE_LIMITED", "Rate limit reached before this event"));
          continue;
        }
        const parsed = v.safeParse(BatchEventSchema, raw);
        if (!parsed.success) {
          results.push(fail("INVALID_PARAMS", describeIssues(parsed.issues, `events.${index}`)));
          continue;
        }
        const event = parsed.output;
        try {
          if (event.type === "click") {
            const data = await recordSdkClick(deps, { key, input: event, sdk, origin });
            results.push({ index, type: "click", success: true, data });
          } else {
            const data = await recordConversion(deps, {
              key,
              input: event,
              source: "batch",
              sdk,
              geoCountry: origin.country,
            });
            fanOutConversion(c, {
              type: "conversion.created",
              conversion_id: data.conversion_id,
              status: data.status,
            });
            results.push({ index, type: "conversion", success: true, data });
          }
        } catch (err) {
          if (err instanceof ApiError) results.push(fail(err.code, err.message));
          else {
            // Earlier events are committed; failing the whole batch would invite a resend of them.
            c.get("log").error("batch event failed", err, { index });
            results.push(fail("INTERNAL_ERROR", "Internal error"));
          }
        }
      }
      const accepted = results.filter((r) => r.success).length;
      const data: BatchData = { accepted, rejected: results.length - accepted, results };
      return c.json(successBody(data, "Batch processed"));
    },
  );
}
