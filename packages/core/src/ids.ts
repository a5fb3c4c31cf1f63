// Identifiers. Click IDs are made at the edge and are the clicks table's primary key, so a
// redelivered queue message can never count twice; the time prefix keeps inserts index-local.

import { randomBase62 } from "./crypto";

export type IdPrefix =
  | "clk"
  | "conv"
  | "off"
  | "adv"
  | "pub"
  | "net"
  | "usr"
  | "uo"
  | "key"
  | "sec"
  | "fe"
  | "req"
  | "apl";

export function newId(prefix: IdPrefix, randomLength = 16): string {
  return `${prefix}_${randomBase62(randomLength)}`;
}

/** `clk_` + 9 base36 chars of milliseconds + 14 random base62 chars: sortable and unguessable. */
export function newClickId(now = Date.now()): string {
  return `clk_${now.toString(36).padStart(9, "0")}${randomBase62(14)}`;
}

export const CLICK_ID_PATTERN = /^clk_[0-9a-z]{9}[0-9A-Za-z]{14}$/;

/** Tracking codes and short codes: URL-safe, no dot (the dot separates signed-link parts). */
export const CODE_PATTERN = /^[A-Za-z0-9_-]{3,64}$/;

export function newTrackingCode(): string {
  return randomBase62(12);
}

export function newShortCode(): string {
  return randomBase62(7);
}
