// The influencer tracker's viewer identity for anti-cheat. The key of the day is random (made by the
// first API isolate that needs it, kept in Redis with a TTL of about 26 hours, never derived from a
// secret), so once it expires no one, not even the holder of every secret, can recompute a day's
// hashes and brute-force them back to IPs; no hash joins across days; the IP is never stored or logged.

import { hmacSha256Hex, toHex } from "./crypto";
import { utcDay } from "./ip-hash";

export interface TrackerViewer {
  ip: string;
  userAgent: string;
  productId: string;
  influencerId: string;
  eventType: string;
}

/** How long Redis keeps a day's key: the UTC day plus two hours of clock skew and late requests. */
export const TRACKER_DAY_KEY_TTL_SECONDS = 26 * 3600;

/** The Redis key holding the random anti-cheat key of a UTC day (`YYYY-MM-DD`). */
export function trackerDayKeyName(now = Date.now()): string {
  return `tracker:day-key:${utcDay(now)}`;
}

/** A fresh random day key: 32 bytes from the platform's CSPRNG, hex. */
export function newTrackerDayKey(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** 32 hex chars of HMAC(day key, ip + user agent + product + influencer + event type). */
export async function trackerViewerHash(dayKey: string, viewer: TrackerViewer): Promise<string> {
  const data = [viewer.ip, viewer.userAgent, viewer.productId, viewer.influencerId, viewer.eventType].join(
    "\u001f",
  );
  return (await hmacSha256Hex(dayKey, data)).slice(0, 32);
}

/** Start of the UTC 15-minute bucket of `now`. */
export function quarterHourOf(now: number): Date {
  return new Date(Math.floor(now / 900_000) * 900_000);
}
