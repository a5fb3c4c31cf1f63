// Raw IP addresses are never stored. A keyed hash with a salt that changes every UTC day lets us
// dedupe clicks and drop same-viewer repeats within a day, yet cannot be joined across days.

import { clientNetworkOf } from "./cidr";
import { hmacSha256Hex } from "./crypto";

let lastDay = { index: -1, text: "" };

export function utcDay(now = Date.now()): string {
  const index = Math.floor(now / 86_400_000);
  if (index !== lastDay.index) lastDay = { index, text: new Date(now).toISOString().slice(0, 10) };
  return lastDay.text;
}

/** 32 hex chars of HMAC-SHA256(secret, "{day}|{ip}"). */
export async function hashIp(secret: string, ip: string, now = Date.now()): Promise<string> {
  return (await hmacSha256Hex(secret, `${utcDay(now)}|${ip}`)).slice(0, 32);
}

/**
 * Who a click-frequency counter counts: the client network (an IPv4 address, an IPv6 /64, see
 * clientNetworkOf), keyed but not salted by day, so a window may span midnight. Like the dedupe
 * identity it lives only as a Redis key that expires with its window, never in Postgres.
 */
export async function hashClientNetwork(secret: string, ip: string): Promise<string> {
  return (await hmacSha256Hex(secret, `net|${clientNetworkOf(ip)}`)).slice(0, 32);
}

/**
 * The visitor identity for dedupe: a keyed hash of the IP, or of the IP and user agent (so phones
 * behind one carrier NAT are told apart). Not salted by day, so a window may span midnight; it
 * lives only as a Redis key that expires with the window, never in Postgres.
 */
export async function hashVisitor(
  secret: string,
  mode: "ip" | "ip_ua",
  ip: string,
  userAgent: string | null,
): Promise<string> {
  const identity = mode === "ip" ? `ip|${ip}` : `ip_ua|${ip}|${userAgent ?? ""}`;
  return (await hmacSha256Hex(secret, `visitor|${identity}`)).slice(0, 32);
}
