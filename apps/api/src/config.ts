// The API worker's bindings (apps/api/wrangler.toml) parsed once into a typed config. A missing
// secret or URL fails the first request loudly with its name, never falls back to a default.

import type { ClickBatchMessage, ClickEvent, WebhookQueueMessage } from "@afftrack/core";
import * as v from "valibot";
import type { LiveChannel } from "./live-channel.do";

export interface ApiEnv {
  DATABASE_URL: string;
  /** Local only: the devstack's Neon WebSocket bridge, e.g. "127.0.0.1:8788/v1". Unset in production. */
  NEON_WS_PROXY?: string;
  /** Local only: the devstack's Neon SQL-over-HTTP endpoint (`http://127.0.0.1:port/sql`). */
  NEON_HTTP_ENDPOINT?: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  IP_HASH_SECRET: string;
  /** Signs management-API JWTs (HS256). */
  JWT_SECRET: string;
  /** Public base of the edge worker, for links the API hands out (e.g. "https://track.example.com"). */
  TRACKING_BASE_URL: string;
  /** Public base of the short-link host (e.g. "https://afftok.link"). */
  SHORT_LINK_BASE_URL: string;
  CLICKS?: Queue<ClickEvent | ClickBatchMessage>;
  /** Webhook and postback deliveries (issue 10): conversion facts to fan out, attempts to make. */
  WEBHOOKS?: Queue<WebhookQueueMessage>;
  /** Multiplies the webhook retry schedule and the 5-day disable rule (default 1; tests: a fast clock). */
  WEBHOOK_RETRY_SCALE?: string;
  /** "true" lets webhooks reach loopback addresses (local stack and tests only; default false). */
  WEBHOOK_ALLOW_PRIVATE?: string;
  /**
   * Encrypts webhook and postback signing secrets at rest (AES-256-GCM), a wrangler secret:
   * "<key id>:<base64 of 32 bytes>", newest first, comma-separated older keys still decrypt.
   */
  WEBHOOK_SECRETS_KEY: string;
  /** Ingestion rate limits per API key (defaults 60 and 1000, the seed's); raised for benchmarks. */
  RATE_LIMIT_PER_MINUTE?: string;
  RATE_LIMIT_PER_HOUR?: string;
  /** Registrations per client per hour (default 5) and for everyone per hour (default 500). */
  REGISTER_LIMIT_PER_HOUR?: string;
  REGISTER_LIMIT_GLOBAL_PER_HOUR?: string;
  /** Links one publisher may sign per minute (default 600). */
  SIGN_LIMIT_PER_MINUTE?: string;
  /** "debug" | "info" | "warn" | "error" (default "info"). */
  LOG_LEVEL?: string;
  /**
   * Influencer tracker hosts: with "streamtools.example.com", `api-tracker-{customer}.streamtools.example.com`
   * takes `POST /{access_key}` and `{product}-widget-{customer}.streamtools.example.com` serves widgets.
   * Unset: only the path forms (`/t/{access_key}`, `/w/...`).
   */
  TRACKER_HOST_SUFFIX?: string;
  /**
   * Tracker postbacks per minute per access key and per client IP (defaults 12000 each: the
   * ingestion throughput goal, as a brand posts from few IPs); hourly windows are 60 times these.
   */
  TRACKER_LIMIT_PER_MINUTE?: string;
  TRACKER_IP_LIMIT_PER_MINUTE?: string;
  /** Widget counter (count.json) and socket requests per minute per client IP (default 600). */
  WIDGET_LIMIT_PER_MINUTE?: string;
  /** Sockets one widget channel accepts; beyond, the upgrade is refused with 429 (default 500). */
  WIDGET_SOCKET_CAP?: string;
  /** The live event channels (Durable Object per tenant) behind /api/stats/stream. */
  LIVE_CHANNEL?: DurableObjectNamespace<LiveChannel>;
  /** The widget channels (Durable Object per customer, product and influencer). */
  WIDGET_CHANNEL?: DurableObjectNamespace;
}

const required = (name: string) =>
  v.pipe(v.string(`${name} is not set`), v.trim(), v.minLength(1, `${name} is not set`));
const url = (name: string) =>
  v.pipe(
    required(name),
    v.url(`${name} must be an absolute URL`),
    v.transform((s) => s.replace(/\/+$/, "")),
  );
const positiveInt = (fallback: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.transform((s) => Number.parseInt(s, 10)),
    v.check((n) => Number.isInteger(n) && n > 0, "must be a positive integer"),
  );

const ConfigSchema = v.object({
  DATABASE_URL: required("DATABASE_URL"),
  NEON_WS_PROXY: v.optional(v.string()),
  NEON_HTTP_ENDPOINT: v.optional(v.string()),
  UPSTASH_REDIS_REST_URL: url("UPSTASH_REDIS_REST_URL"),
  UPSTASH_REDIS_REST_TOKEN: required("UPSTASH_REDIS_REST_TOKEN"),
  IP_HASH_SECRET: required("IP_HASH_SECRET"),
  JWT_SECRET: required("JWT_SECRET"),
  TRACKING_BASE_URL: url("TRACKING_BASE_URL"),
  SHORT_LINK_BASE_URL: url("SHORT_LINK_BASE_URL"),
  RATE_LIMIT_PER_MINUTE: positiveInt(60),
  RATE_LIMIT_PER_HOUR: positiveInt(1000),
  REGISTER_LIMIT_PER_HOUR: positiveInt(5),
  REGISTER_LIMIT_GLOBAL_PER_HOUR: positiveInt(500),
  SIGN_LIMIT_PER_MINUTE: positiveInt(600),
  LOG_LEVEL: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
  WEBHOOK_RETRY_SCALE: v.pipe(
    v.optional(v.string(), "1"),
    v.transform(Number),
    v.check((n) => Number.isFinite(n) && n > 0 && n <= 1, "must be a number in (0, 1]"),
  ),
  WEBHOOK_ALLOW_PRIVATE: v.optional(v.picklist(["true", "false"]), "false"),
  WEBHOOK_SECRETS_KEY: v.pipe(
    required("WEBHOOK_SECRETS_KEY"),
    v.regex(
      /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]{43}=?(\s*,\s*[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]{43}=?)*$/,
      "WEBHOOK_SECRETS_KEY must be <key id>:<base64 of 32 bytes>[,<older id>:<base64>...]",
    ),
  ),
  TRACKER_HOST_SUFFIX: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase()), ""),
  TRACKER_LIMIT_PER_MINUTE: positiveInt(12_000),
  TRACKER_IP_LIMIT_PER_MINUTE: positiveInt(12_000),
  WIDGET_LIMIT_PER_MINUTE: positiveInt(600),
});

export interface ApiConfig {
  databaseUrl: string;
  neonWsProxy: string | undefined;
  neonHttpEndpoint: string | undefined;
  redisUrl: string;
  redisToken: string;
  ipHashSecret: string;
  jwtSecret: string;
  trackingBaseUrl: string;
  shortLinkBaseUrl: string;
  rateLimitPerMinute: number;
  rateLimitPerHour: number;
  registerLimitPerHour: number;
  registerLimitGlobalPerHour: number;
  signLimitPerMinute: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** 1 in production; smaller in tests, to run days of retries in seconds. */
  webhookRetryScale: number;
  /** Loopback webhook destinations allowed (local stack and tests). */
  webhookAllowLoopback: boolean;
  /** The keyring text sealing webhook secrets (parsed by secretKeyring). */
  webhookSecretsKey: string;
  /** "" when the tracker and widget host forms are off. */
  trackerHostSuffix: string;
  trackerLimitPerMinute: number;
  trackerIpLimitPerMinute: number;
  widgetLimitPerMinute: number;
}

/** Thrown at the first request of a misconfigured worker; the message names every bad binding. */
export class ConfigError extends Error {}

let parsed: { env: ApiEnv; config: ApiConfig } | undefined;

export function parseConfig(env: ApiEnv): ApiConfig {
  if (parsed?.env === env) return parsed.config;
  const result = v.safeParse(ConfigSchema, env);
  if (!result.success) {
    const problems = result.issues.map((i) => {
      const name = v.getDotPath(i);
      return i.message.includes(name ?? "\u0000") ? i.message : `${name}: ${i.message}`;
    });
    throw new ConfigError(`api worker misconfigured: ${problems.join("; ")}`);
  }
  const e = result.output;
  const config: ApiConfig = {
    databaseUrl: e.DATABASE_URL,
    neonWsProxy: e.NEON_WS_PROXY || undefined,
    neonHttpEndpoint: e.NEON_HTTP_ENDPOINT || undefined,
    redisUrl: e.UPSTASH_REDIS_REST_URL,
    redisToken: e.UPSTASH_REDIS_REST_TOKEN,
    ipHashSecret: e.IP_HASH_SECRET,
    jwtSecret: e.JWT_SECRET,
    trackingBaseUrl: e.TRACKING_BASE_URL,
    shortLinkBaseUrl: e.SHORT_LINK_BASE_URL,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitPerHour: e.RATE_LIMIT_PER_HOUR,
    registerLimitPerHour: e.REGISTER_LIMIT_PER_HOUR,
    registerLimitGlobalPerHour: e.REGISTER_LIMIT_GLOBAL_PER_HOUR,
    signLimitPerMinute: e.SIGN_LIMIT_PER_MINUTE,
    logLevel: e.LOG_LEVEL,
    webhookRetryScale: e.WEBHOOK_RETRY_SCALE,
    webhookAllowLoopback: e.WEBHOOK_ALLOW_PRIVATE === "true",
    webhookSecretsKey: e.WEBHOOK_SECRETS_KEY,
    trackerHostSuffix: e.TRACKER_HOST_SUFFIX.replace(/^\.+|\.+$/g, ""),
    trackerLimitPerMinute: e.TRACKER_LIMIT_PER_MINUTE,
    trackerIpLimitPerMinute: e.TRACKER_IP_LIMIT_PER_MINUTE,
    widgetLimitPerMinute: e.WIDGET_LIMIT_PER_MINUTE,
  };
  parsed = { env, config };
  return config;
}
