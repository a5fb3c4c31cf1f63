// After a management change the edge depends on, rewrite the affected link records in Redis at
// once. If Redis cannot be reached the change is saved but the caller is told to retry, because a
// stale record (a paused offer still counting) must not pass silently.

import { ApiError } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Kysely } from "kysely";
import { refreshLinkRecord } from "./link-records";
import type { Logger } from "./logger";

const CONCURRENCY = 8;

export async function syncLinkRecords(
  db: Kysely<Database>,
  redis: Redis,
  trackingCodes: readonly string[],
  log: Logger,
) {
  try {
    for (let i = 0; i < trackingCodes.length; i += CONCURRENCY) {
      await Promise.all(
        trackingCodes
          .slice(i, i + CONCURRENCY)
          .map((trackingCode) => refreshLinkRecord(db, redis, { trackingCode })),
      );
    }
  } catch (err) {
    log.error("link record refresh failed", err, { tracking_codes: trackingCodes.length });
    throw new ApiError(
      "SERVICE_UNAVAILABLE",
      "Saved, but tracking links could not be updated yet; retry the request",
    );
  }
}
