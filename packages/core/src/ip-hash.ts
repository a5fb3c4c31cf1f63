// Raw IP addresses are never stored. A keyed hash with a salt that changes every UTC day lets us
// dedupe clicks and drop same-viewer repeats within a day, yet cannot be joined across days.

import { hmacSha256Hex } from "./crypto";

export function utcDay(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** 32 hex chars of HMAC-SHA256(secret, "{day}|{ip}"). */
export async function hashIp(secret: string, ip: string, now = Date.now()): Promise<string> {
  return (await hmacSha256Hex(secret, `${utcDay(now)}|${ip}`)).slice(0, 32);
}
