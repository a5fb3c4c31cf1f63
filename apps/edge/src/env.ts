// The edge worker's bindings (wrangler.toml at the repository root) and their one-time check.

import type { ClickBatchMessage, ClickEvent, LinkRecord } from "@afftrack/core";

/** RPC surface of the API worker's EdgeService entrypoint (service binding LINKS). */
export interface LinkResolver {
  resolveLink(by: { trackingCode: string } | { shortCode: string }): Promise<LinkRecord | null>;
  recordClicks(events: ClickEvent[]): Promise<number>;
}

export interface EdgeEnv {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  IP_HASH_SECRET: string;
  ALLOW_LEGACY_TRACKING_CODES?: string;
  /** Comma-separated hosts on which `/{short_code}` is served (e.g. "afftok.link"). */
  SHORT_LINK_HOSTS?: string;
  /** Same visitor + same code within this many seconds is recorded as `duplicate` (default 86400). */
  CLICK_DEDUPE_SECONDS?: string;
  /** How long a link record stays in the isolate cache (default 15 s; a paused offer stops within it). */
  LINK_CACHE_SECONDS?: string;
  /** More datacenter/hosting ASNs for the offers' datacenter rule, comma-separated (e.g. "64500,64501"). */
  DATACENTER_ASNS?: string;
  CLICKS: Queue<ClickBatchMessage>;
  LINKS: Service & LinkResolver;
}

export interface EdgeConfig {
  allowLegacy: boolean;
  shortHosts: Set<string>;
  dedupeSeconds: number;
  cacheMs: number;
  /** The deployment's datacenter ASNs, added to the platform's list. */
  datacenterAsns: ReadonlySet<number>;
}

const REQUIRED = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "IP_HASH_SECRET"] as const;

let checked: { env: EdgeEnv; config: EdgeConfig } | undefined;

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Validates bindings once per isolate; a missing secret fails loudly instead of deep in a handler. */
export function edgeConfig(env: EdgeEnv): EdgeConfig {
  if (checked?.env === env) return checked.config;
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`edge worker misconfigured: missing ${missing.join(", ")}`);
  const config: EdgeConfig = {
    allowLegacy: env.ALLOW_LEGACY_TRACKING_CODES === "true",
    shortHosts: new Set(
      (env.SHORT_LINK_HOSTS ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
    dedupeSeconds: positiveInt(env.CLICK_DEDUPE_SECONDS, 86_400),
    cacheMs: positiveInt(env.LINK_CACHE_SECONDS, 15) * 1000,
    datacenterAsns: new Set(
      (env.DATACENTER_ASNS ?? "")
        .split(",")
        .map((a) => Number.parseInt(a.trim().replace(/^AS/i, ""), 10))
        .filter((a) => Number.isSafeInteger(a) && a > 0),
    ),
  };
  checked = { env, config };
  return config;
}
