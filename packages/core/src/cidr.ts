// IP addresses and CIDR ranges (IPv4 and IPv6) for the advertisers' postback allowlists. Pure and
// strict: anything that is not a plain address or range parses to null and never matches.

import { ApiError } from "./errors";

export interface ParsedIp {
  version: 4 | 6;
  bytes: Uint8Array;
}

export interface ParsedCidr extends ParsedIp {
  prefix: number;
}

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? "";
    if (!IPV4_PART.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  let head = text;
  let tail4: Uint8Array | null = null;
  // An embedded IPv4 tail (::ffff:192.0.2.1) takes the last two hextets.
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (!tail4) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const split = (s: string) => (s === "" ? [] : s.split(":"));
  const left = split(halves[0] ?? "");
  const right = halves.length === 2 ? split(halves[1] ?? "") : [];
  const groups = left.length + right.length;
  if (halves.length === 1 ? groups !== 8 : groups > 7) return null;
  const words = [...left, ...Array<string>(8 - groups).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i] ?? "";
    if (!HEXTET.test(w)) return null;
    const n = Number.parseInt(w, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 255;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) is returned as IPv4. */
export function parseIp(text: string): ParsedIp | null {
  const t = text.trim();
  if (t.includes(":")) {
    const bytes = parseIpv6(t);
    if (!bytes) return null;
    return isV4Mapped(bytes) ? { version: 4, bytes: bytes.slice(12) } : { version: 6, bytes };
  }
  const bytes = parseIpv4(t);
  return bytes ? { version: 4, bytes } : null;
}

/** Parses `addr/prefix`; a bare address is a single-host range (/32 or /128). */
export function parseCidr(text: string): ParsedCidr | null {
  const t = text.trim();
  const slash = t.indexOf("/");
  const addr = slash === -1 ? t : t.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) return null;
  // A mapped address given with an IPv6 prefix keeps IPv6 prefix semantics, shifted to IPv4.
  const mappedV6 = addr.includes(":") && ip.version === 4;
  const max = ip.version === 4 ? 32 : 128;
  if (slash === -1) return { ...ip, prefix: max };
  const p = t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p)) return null;
  let prefix = Number(p);
  if (mappedV6) {
    if (prefix < 96 || prefix > 128) return null;
    prefix -= 96;
  }
  if (prefix > max) return null;
  return { ...ip, prefix };
}

export function ipInCidr(ip: ParsedIp, range: ParsedCidr): boolean {
  if (ip.version !== range.version) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip.bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** True when `ip` parses and lies in any of the ranges; malformed ranges are skipped. */
export function isIpAllowed(ip: string, ranges: readonly string[]): boolean {
  const parsed = parseIp(ip);
  if (!parsed) return false;
  for (const r of ranges) {
    const range = parseCidr(r);
    if (range && ipInCidr(parsed, range)) return true;
  }
  return false;
}

/**
 * Refuses with 403 IP_NOT_ALLOWED when the allowlist is non-empty and does not hold the client;
 * `whose` names the list in the message ("advertiser's", "offer's").
 */
export function assertIpAllowed(ranges: readonly string[], ip: string | null, whose: string): void {
  if (ranges.length === 0) return;
  if (!ip || !isIpAllowed(ip, ranges)) {
    throw new ApiError("IP_NOT_ALLOWED", `Client IP is not in the ${whose} postback allowlist`);
  }
}

/**
 * Who a client is for throttles: an IPv4 address itself, and for IPv6 its /64 network (one
 * subscriber's allocation: an ISP hands each customer at least a /64, so rotating through it must
 * not buy fresh attempts). Unparseable input is keyed as is.
 */
export function clientNetworkOf(ip: string): string {
  const parsed = parseIp(ip);
  if (!parsed) return ip.trim();
  if (parsed.version === 4) return parsed.bytes.join(".");
  const hextets: string[] = [];
  for (let i = 0; i < 8; i += 2) hextets.push(((parsed.bytes[i]! << 8) | parsed.bytes[i + 1]!).toString(16));
  return `${hextets.join(":")}::/64`;
}
