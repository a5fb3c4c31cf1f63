// POST /api/sdk/click — an SDK or server-side click; answers with the new click_id at once.

import { SdkClickBodySchema, successBody } from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { apiKeyOf } from "../../middleware/api-key-auth";
import { jsonBodyOf } from "../../middleware/body-limit";
import {
  ingestDepsOf,
  parseOrThrow,
  type RecordedClick,
  recordSdkClick,
  requestOriginOf,
  sdkInfoOf,
} from "../../services/ingest";
import { ingestGuards } from "./guards";

export type SdkClickResponse = { success: true; message: string; data: RecordedClick };

export function registerSdkClick(app: Hono<AppEnv>): void {
  app.post("/api/sdk/click", ingestGuards(), async (c) => {
    const sdk = sdkInfoOf(c);
    const input = parseOrThrow(SdkClickBodySchema, jsonBodyOf(c));
    const click = await recordSdkClick(ingestDepsOf(c), {
      key: apiKeyOf(c),
      input,
      sdk,
      origin: requestOriginOf(c),
    });
    return c.json(successBody(click, "Click tracked successfully"));
  });
}
