// POST /api/sdk/batch — up to 100 clicks and conversions under one signature, one result per event.
// Each event costs one rate-limit unit; events beyond what the limits grant are answered
// RATE_LIMITED individually. A bad event never stops the others.

import {
  ApiError,
  BatchBodySchema,
  BatchEventSchema,
  describeIssues,
  type ErrorCode,
  MAX_BATCH_EVENTS,
  successBody,
} from "@afftrack/core";
import type { Hono } from "hono";
import * as v from "valibot";
import type { AppContext, AppEnv } from "../../context";
import { apiKeyOf } from "../../middleware/api-key-auth";
import { jsonBodyOf } from "../../middleware/body-limit";
import { rateLimitGrantedOf } from "../../middleware/rate-limit";
import {
  ingestDepsOf,
  parseOrThrow,
  recordConversion,
  recordSdkClick,
  requestOriginOf,
  sdkInfoOf,
} from "../../services/ingest";
import { ingestGuards } from "./guards";

export type BatchEventResult =
  | { index: number; type: "click" | "conversion"; success: true; data: Record<string, unknown> }
  | { index: number; type: string | null; success: false; error: string; code: ErrorCode };

export interface BatchData {
  accepted: number;
  rejected: number;
  results: BatchEventResult[];
}

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
  app.post("/api/sdk/batch", ingestGuards({ cost: eventCount }), async (c) => {
    const sdk = sdkInfoOf(c);
    const body = parseOrThrow(BatchBodySchema, jsonBodyOf(c));
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
          results.push({ index, type: "click", success: true, data: { ...data } });
        } else {
          const r = await recordConversion(deps, {
            key,
            input: event,
            source: "batch",
            sdk,
            geoCountry: origin.country,
          });
          const { click_id: _c, publisher_id: _p, attribution: _a, ...data } = r;
          results.push({ index, type: "conversion", success: true, data });
        }
      } catch (err) {
        if (err instanceof ApiError) results.push(fail(err.code, err.message));
        else {
          // Earlier events are committed; failing the whole batch would invite a resend of them.
          console.error(JSON.stringify({ msg: "batch event failed", index, error: String(err) }));
          results.push(fail("INTERNAL_ERROR", "Internal error"));
        }
      }
    }
    const accepted = results.filter((r) => r.success).length;
    const data: BatchData = { accepted, rejected: results.length - accepted, results };
    return c.json(successBody(data, "Batch processed"));
  });
}
