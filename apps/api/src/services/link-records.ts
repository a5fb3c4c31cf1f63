// Keeps the edge's link records in Redis in step with Postgres. Called on a cache miss from the
// edge and after every change an edge decision depends on (offer, link, secret).

import { type LinkRecord, linkKey, shortKey } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import { loadLinkRecord } from "@afftrack/db";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Kysely } from "kysely";

export type LinkLookup = { trackingCode: string } | { shortCode: string };

/** Reads the record from Postgres and writes it to Redis under its tracking and short code. */
export async function refreshLinkRecord(
  db: Kysely<Database>,
  redis: Redis,
  by: LinkLookup,
): Promise<LinkRecord | null> {
  const loaded = await loadLinkRecord(db, by);
  if (!loaded) {
    if ("trackingCode" in by) await redis.del(linkKey(by.trackingCode));
    else await redis.del(shortKey(by.shortCode));
    return null;
  }
  const { record, maxAgeSeconds } = loaded;
  const p = redis.pipeline();
  p.set(linkKey(record.tracking_code), record, { ex: maxAgeSeconds });
  if (record.short_code) p.set(shortKey(record.short_code), record, { ex: maxAgeSeconds });
  await p.exec();
  return record;
}
