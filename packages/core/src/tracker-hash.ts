// The influencer tracker's viewer identity for anti-cheat. The key of the day is derived from the
// secret and the UTC day, so yesterday's hashes cannot be recomputed from today's key and no hash
// joins across days; the IP itself is never stored or logged.

import { hmacSha256Hex } from "./crypto";
import { utcDay } from "./ip-hash";

export interface TrackerViewer {
  ip: string;
  userAgent: string;
  productId: string;
  influencerId: string;
  eventType: string;
}

/** The UTC day's key: HMAC(secret, "tracker-day|YYYY-MM-DD"). */
export function trackerDayKey(secret: string, now = Date.now()): Promise<string> {
  return hmacSha256Hex(secret, `tracker-day|${utcDay(now)}`);
}

/** 32 hex chars of HMAC(day key, ip + user agent + product + influencer + event type). */
export async function trackerViewerHash(
  secret: string,
  viewer: TrackerViewer,
  now = Date.now(),
): Promise<string> {
  const dayKey = await trackerDayKey(secret, now);
  const data = [viewer.ip, viewer.userAgent, viewer.productId, viewer.influencerId, viewer.eventType].join(
    "\u001f",
  );
  return (await hmacSha256Hex(dayKey, data)).slice(0, 32);
}

/** Start of the UTC 15-minute bucket of `now`. */
export function quarterHourOf(now: number): Date {
  return new Date(Math.floor(now / 900_000) * 900_000);
}
