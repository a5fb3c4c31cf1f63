// POST /api/sdk/click — an SDK or server-side click; answers with the new click_id at once.

import {
  SdkClickBodySchema,
  SdkClickDataSchema,
  SEED_CLICK_DATA,
  SEED_CLICK_REQUEST,
  seedAnswer,
  successBody,
} from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { apiKeyOf } from "../../../middleware/api-key-auth";
import { INGEST_GUARD_ERRORS, ingestGuards } from "../../../middleware/ingest-guards";
import { describe, validate } from "../../../openapi/route";
import { ingestDepsOf, recordSdkClick, requestOriginOf, sdkInfoOf } from "../../../services/ingest";

export function registerSdkClick(app: Hono<AppEnv>): void {
  app.post(
    "/api/sdk/click",
    describe({
      tag: "Ingestion",
      summary: "Track a click",
      description:
        "A click reported by the SDK (headers `X-SDK-Version`, `X-SDK-Platform`) or a server, which " +
        "passes the visitor's `ip` and `user_agent`. The offer's geo rules apply to Cloudflare's country.",
      auth: "api_key",
      response: SdkClickDataSchema,
      errors: [...INGEST_GUARD_ERRORS, "INVALID_OFFER", "GEO_BLOCKED"],
      requestExample: SEED_CLICK_REQUEST,
      example: seedAnswer("Click tracked successfully", SEED_CLICK_DATA),
    }),
    ingestGuards(),
    validate("json", SdkClickBodySchema),
    async (c) => {
      const click = await recordSdkClick(ingestDepsOf(c), {
        key: apiKeyOf(c),
        input: c.req.valid("json"),
        sdk: sdkInfoOf(c),
        origin: requestOriginOf(c),
      });
      return c.json(successBody(click, "Click tracked successfully"));
    },
  );
}
