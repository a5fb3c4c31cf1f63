// Where webhooks and postbacks may go. A Worker cannot resolve DNS itself, so this judges the URL
// as written: http/https only, and no host that names a private, loopback, link-local, CGNAT,
// metadata or otherwise non-public address — in any notation the URL parser accepts (decimal,
// octal and hex IPv4 are normalised by it; IPv4-mapped and -compatible IPv6 are unwrapped here),
// nor names that only resolve inside a network (localhost, *.local, *.internal, ...). In
// production Cloudflare's fetch() also refuses private destinations, which covers public names
// that resolve to private addresses (DNS rebinding).

import { parseIp } from "./cidr";

export type DestinationProblem =
  | "invalid_url"
  | "scheme_not_allowed"
  | "credentials_not_allowed"
  | "private_address"
  | "internal_hostname";

export type DestinationCheck =
  | { ok: true; url: URL }
  | { ok: false; problem: DestinationProblem; message: string };

// [first address, prefix] of every range a webhook must not reach (IANA special-purpose registries).
const V4_BLOCKED: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata 169.254.169.254
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];
const V6_BLOCKED: readonly [string, number][] = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["::", 96], // IPv4-compatible (deprecated)
  ["::ffff:0:0:0", 96], // IPv4-translated (SIIT), e.g. ::ffff:0:a9fe:a9fe = 169.254.169.254
  ["64:ff9b::", 96], // NAT64 of any IPv4
  ["64:ff9b:1::", 48],
  ["100::", 64], // discard
  ["2001::", 23], // IETF protocol assignments
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4 embeds IPv4
  ["fc00::", 7], // unique local, AWS metadata fd00:ec2::254
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local
  ["ff00::", 8], // multicast
];
const LOOPBACK_V4: [string, number] = ["127.0.0.0", 8];
const LOOPBACK_V6: [string, number] = ["::1", 128];

function inRange(bytes: Uint8Array, [base, prefix]: readonly [string, number]): boolean {
  const b = parseIp(base);
  if (!b || b.bytes.length !== bytes.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[i] ?? 0) & mask) !== ((b.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Whether an IP literal is a public unicast address (what a webhook may reach). */
export function isPublicAddress(ip: string): boolean {
  const parsed = parseIp(ip);
  if (!parsed) return false;
  const table = parsed.version === 4 ? V4_BLOCKED : V6_BLOCKED;
  return !table.some((r) => inRange(parsed.bytes, r));
}

function isLoopback(ip: string): boolean {
  const parsed = parseIp(ip);
  if (!parsed) return false;
  return inRange(parsed.bytes, parsed.version === 4 ? LOOPBACK_V4 : LOOPBACK_V6);
}

const INTERNAL_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".intranet",
  ".lan",
  ".home.arpa",
  ".corp",
  ".private",
];

/**
 * Checks a destination URL. `allowLoopback` (local stack and tests only) admits 127.0.0.0/8, ::1
 * and `localhost`; nothing else private is ever admitted.
 */
export function checkDestination(raw: string, opts: { allowLoopback?: boolean } = {}): DestinationCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: "invalid_url", message: "must be an absolute http(s) URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, problem: "scheme_not_allowed", message: "must use http or https" };
  }
  if (url.username || url.password) {
    return { ok: false, problem: "credentials_not_allowed", message: "must not carry user:password" };
  }
  // The parser already turned 2130706433, 0x7f.1 and 0177.0.0.1 into 127.0.0.1.
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  if (parseIp(literal)) {
    if (opts.allowLoopback && isLoopback(literal)) return { ok: true, url };
    if (!isPublicAddress(literal)) {
      return {
        ok: false,
        problem: "private_address",
        message: "must not point at a private or reserved address",
      };
    }
    return { ok: true, url };
  }
  if (host === "localhost" || host.endsWith(".localhost")) {
    if (opts.allowLoopback) return { ok: true, url };
    return { ok: false, problem: "internal_hostname", message: "must not point at localhost" };
  }
  if (!host.includes(".") || INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) {
    return { ok: false, problem: "internal_hostname", message: "must be a public host name" };
  }
  return { ok: true, url };
}
