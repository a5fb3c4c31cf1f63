// The ingestion API (issue 3): SDK clicks and conversions, S2S postbacks, batches and conversion
// status changes. See docs/ingestion-api.md.

import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { registerConversionStatus } from "./conversion-status.route";
import { registerPostback } from "./postback.route";
import { registerSdkBatch } from "./sdk-batch.route";
import { registerSdkClick } from "./sdk-click.route";
import { registerSdkConversion } from "./sdk-conversion.route";

export function registerIngestion(app: Hono<AppEnv>): void {
  registerSdkClick(app);
  registerSdkConversion(app);
  registerPostback(app);
  registerSdkBatch(app);
  registerConversionStatus(app);
}
