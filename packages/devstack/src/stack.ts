// The local stack: both workers in workerd (one Miniflare, sharing the `clicks` queue), the
// Upstash REST gateway in front of Redis, and Neon's WebSocket and HTTP paths in front of Postgres.
// Real servers first (DATABASE_URL / REDIS_URL), embedded engines when nothing is configured.

import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { Log, LogLevel, Miniflare, type WorkerOptions } from "miniflare";
import { bundleWorker, repoRoot } from "./build-workers";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres";
import { freePort } from "./free-port";
import { migrateDatabase } from "./migrate";
import { startNeonBridge } from "./neon-bridge";
import { startNeonHttp } from "./neon-http";
import { startPgBouncer } from "./pgbouncer";
import {
  createEmbeddedBackend,
  createRedisBackend,
  type RedisBackend,
  startRedisServer,
  startUpstashGateway,
} from "./upstash-gateway";
import { readWranglerConfig, type WranglerConfig } from "./wrangler-config";

export interface StackOptions {
  /** Postgres URL; default DATABASE_URL, else an embedded PGlite. */
  databaseUrl?: string;
  /** Redis URL; default REDIS_URL, else a redis-server on PATH, else the embedded engine (ioredis-mock). */
  redisUrl?: string;
  /** Port of the edge worker (default random). */
  edgePort?: number;
  /** Port of the API worker (default random). */
  apiPort?: number;
  /** Extra or overridden vars per worker, e.g. { ALLOW_LEGACY_TRACKING_CODES: "true" }. */
  edgeVars?: Record<string, string>;
  apiVars?: Record<string, string>;
  /** More workers in the same Miniflare (benchmarks add a bare 302 worker). */
  extraWorkers?: WorkerOptions[];
  /** Seconds a consumer waits to fill a batch (default 0.05 locally). */
  queueBatchTimeout?: number;
  /**
   * Attach the queue consumers (default true). Off leaves clicks in the queue: for measuring the
   * edge alone, as in production where consumers run in their own isolates.
   */
  consumeQueues?: boolean;
  /**
   * Put PgBouncer (transaction pooling, like Neon's pooled endpoint) between the bridge and
   * Postgres: true requires it, "auto" uses it when installed (default false).
   */
  pooler?: boolean | "auto";
  /** Run migrations on start (default true). */
  migrate?: boolean;
  /** Chrome DevTools inspector for the workers (profiling): ws://127.0.0.1:{port}/core:user:{name}. */
  inspectorPort?: number;
  /** Print worker logs (default false). */
  verbose?: boolean;
  /** Default `request.cf` (Miniflare must never download one). */
  cf?: Record<string, unknown>;
}

/**
 * The options `pnpm dev` starts the stack with (besides its ports and the dashboard): request logs
 * on, 1 s queue batches, PgBouncer when installed. bench/redirect measures the same stack.
 */
export const DEV_STACK_OPTIONS = {
  verbose: true,
  queueBatchTimeout: 1,
  pooler: "auto",
} as const satisfies StackOptions;

export interface Stack {
  edgeUrl: string;
  apiUrl: string;
  mf: Miniflare;
  databaseUrl: string;
  databaseKind: "postgres" | "pglite";
  /** True when connections go through PgBouncer. */
  pooled: boolean;
  /** "embedded": the in-process engine (Lua included), used when there is no REDIS_URL nor redis-server. */
  redisKind: "redis" | "redis-server" | "embedded";
  redisRestUrl: string;
  redisRestToken: string;
  wsProxy: string;
  /** Neon's SQL-over-HTTP endpoint (`http://127.0.0.1:{port}/sql`), for `neonConfig.fetchEndpoint`. */
  neonHttpUrl: string;
  ipHashSecret: string;
  jwtSecret: string;
  /** Seals webhook secrets at rest (WEBHOOK_SECRETS_KEY): generated per stack like jwtSecret. */
  webhookSecretsKey: string;
  edgeConfig: WranglerConfig;
  apiConfig: WranglerConfig;
  close(): Promise<void>;
}

export const DEFAULT_CF = {
  country: "US",
  colo: "DFW",
  city: "Austin",
  continent: "NA",
  asn: 13335,
  timezone: "America/Chicago",
  httpProtocol: "HTTP/1.1",
  tlsVersion: "TLSv1.3",
};

/** A worker's Durable Object bindings as Miniflare takes them (in memory: state lives as long as the stack). */
function durableObjectsOf(config: WranglerConfig): NonNullable<WorkerOptions["durableObjects"]> {
  return Object.fromEntries(
    config.durableObjects.map((d) => [
      d.binding,
      { className: d.className, useSQLite: d.sqlite, ...(d.scriptName ? { scriptName: d.scriptName } : {}) },
    ]),
  );
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    // Postgres
    let databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
    let databaseKind: Stack["databaseKind"] = "postgres";
    let pglite: EmbeddedPostgres | undefined;
    if (!databaseUrl) {
      pglite = await startEmbeddedPostgres({ dataDir: process.env.PGLITE_DIR });
      const embedded = pglite;
      cleanups.push(() => embedded.close());
      databaseUrl = pglite.connectionString;
      databaseKind = "pglite";
    }
    if (opts.migrate !== false) await migrateDatabase(databaseUrl);

    // Redis behind the Upstash gateway
    let backend: RedisBackend;
    let redisKind: Stack["redisKind"] = "redis";
    const redisUrl = opts.redisUrl ?? process.env.REDIS_URL;
    if (redisUrl) backend = createRedisBackend(redisUrl);
    else {
      const server = await startRedisServer({});
      if (server) {
        cleanups.push(() => server.close());
        backend = createRedisBackend(server.url);
        redisKind = "redis-server";
      } else {
        backend = createEmbeddedBackend();
        redisKind = "embedded";
      }
    }
    cleanups.push(() => backend.close());
    const redisRestToken = randomBytes(24).toString("hex");
    const gateway = await startUpstashGateway({ token: redisRestToken, backend });
    cleanups.push(() => gateway.close());

    // Neon bridge, allowed to reach only the configured database
    const db = new URL(databaseUrl);
    const dbAddress = { host: db.hostname, port: Number(db.port || 5432) };
    let pooled = false;
    let upstream: { host: string; port: number } | undefined;
    if (opts.pooler && databaseKind === "postgres") {
      const bouncer = await startPgBouncer({
        upstream: dbAddress,
        user: decodeURIComponent(db.username || "postgres"),
      });
      if (bouncer) {
        cleanups.push(() => bouncer.close());
        upstream = { host: bouncer.host, port: bouncer.port };
        pooled = true;
      } else if (opts.pooler === true) throw new Error("pooler requested but pgbouncer is not installed");
    }
    const bridge = await startNeonBridge({ allow: [dbAddress], ...(upstream ? { upstream } : {}) });
    cleanups.push(() => bridge.close());
    // neon() over HTTP, on its own warm pool: no PgBouncer needed in front of it.
    const neonHttp = await startNeonHttp(pglite ? { embedded: pglite } : { databaseUrl });
    cleanups.push(() => neonHttp.close());

    // Workers
    const edgeConfig = await readWranglerConfig(path.join(repoRoot, "wrangler.toml"));
    const apiConfig = await readWranglerConfig(path.join(repoRoot, "apps/api/wrangler.toml"));
    const buildDir = await mkdtemp(path.join(tmpdir(), "afftrack-build-"));
    cleanups.push(() => rm(buildDir, { recursive: true, force: true }));
    const [edgeScript, apiScript] = await Promise.all([
      bundleWorker(edgeConfig.main, path.join(buildDir, "edge.js"), edgeConfig.alias),
      bundleWorker(apiConfig.main, path.join(buildDir, "api.js"), apiConfig.alias),
    ]);

    const jwtSecret = process.env.JWT_SECRET ?? randomBytes(32).toString("hex");
    const ipHashSecret = process.env.IP_HASH_SECRET ?? randomBytes(32).toString("hex");
    const webhookSecretsKey = process.env.WEBHOOK_SECRETS_KEY ?? (await localSecretsKey(pglite));
    const redisBindings = {
      UPSTASH_REDIS_REST_URL: gateway.url,
      UPSTASH_REDIS_REST_TOKEN: redisRestToken,
      IP_HASH_SECRET: ipHashSecret,
    };
    const batchTimeout = opts.queueBatchTimeout ?? 0.05;
    const edgePort = opts.edgePort || (await freePort());
    const localEdge = `http://127.0.0.1:${edgePort}`;
    const edgeWorker: WorkerOptions = {
      name: edgeConfig.name,
      modules: true,
      scriptPath: edgeScript,
      modulesRoot: buildDir,
      compatibilityDate: edgeConfig.compatibilityDate,
      compatibilityFlags: edgeConfig.compatibilityFlags,
      bindings: { ...edgeConfig.vars, ...redisBindings, ...opts.edgeVars },
      queueProducers: Object.fromEntries(edgeConfig.queueProducers.map((p) => [p.binding, p.queue])),
      durableObjects: durableObjectsOf(edgeConfig),
      serviceBindings: Object.fromEntries(
        edgeConfig.services.map((s) => [
          s.binding,
          s.entrypoint ? { name: s.service, entrypoint: s.entrypoint } : s.service,
        ]),
      ),
    };
    const apiWorker: WorkerOptions = {
      name: apiConfig.name,
      modules: true,
      scriptPath: apiScript,
      modulesRoot: buildDir,
      compatibilityDate: apiConfig.compatibilityDate,
      compatibilityFlags: apiConfig.compatibilityFlags,
      bindings: {
        ...apiConfig.vars,
        ...redisBindings,
        DATABASE_URL: databaseUrl,
        JWT_SECRET: jwtSecret,
        WEBHOOK_SECRETS_KEY: webhookSecretsKey,
        NEON_WS_PROXY: bridge.wsProxy,
        NEON_HTTP_ENDPOINT: neonHttp.url,
        // Links the API hands out point at the local edge (short links via its /s/ route).
        TRACKING_BASE_URL: localEdge,
        SHORT_LINK_BASE_URL: `${localEdge}/s`,
        // Tests register hundreds of networks from one address; a variant sets the real limits.
        REGISTER_LIMIT_PER_HOUR: "1000000",
        REGISTER_LIMIT_GLOBAL_PER_HOUR: "1000000",
        // Webhook receivers of the local stack and tests listen on 127.0.0.1 (production: false).
        WEBHOOK_ALLOW_PRIVATE: "true",
        ...opts.apiVars,
      },
      queueProducers: Object.fromEntries(apiConfig.queueProducers.map((p) => [p.binding, p.queue])),
      durableObjects: durableObjectsOf(apiConfig),
      queueConsumers:
        opts.consumeQueues === false
          ? {}
          : Object.fromEntries(
              apiConfig.queueConsumers.map((c) => [
                c.queue,
                {
                  maxBatchTimeout: batchTimeout,
                  ...(c.maxBatchSize ? { maxBatchSize: c.maxBatchSize } : {}),
                  ...(c.maxRetries ? { maxRetries: c.maxRetries } : {}),
                  ...(c.deadLetterQueue ? { deadLetterQueue: c.deadLetterQueue } : {}),
                },
              ]),
            ),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: opts.apiPort ?? 0 }],
    };
    const mf = new Miniflare({
      host: "127.0.0.1",
      port: edgePort,
      cf: opts.cf ?? DEFAULT_CF,
      ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
      log: new Log(opts.verbose ? LogLevel.INFO : LogLevel.ERROR),
      handleRuntimeStdio: opts.verbose
        ? undefined
        : (stdout: Readable, stderr: Readable) => {
            stdout.resume();
            stderr.resume();
          },
      workers: [edgeWorker, apiWorker, ...(opts.extraWorkers ?? [])],
    });
    cleanups.push(() => mf.dispose());
    const edgeUrl = (await mf.ready).toString().replace(/\/$/, "");
    const apiUrl = (await mf.unsafeGetDirectURL(apiConfig.name)).toString().replace(/\/$/, "");

    return {
      edgeUrl,
      apiUrl,
      mf,
      databaseUrl,
      databaseKind,
      pooled,
      redisKind,
      redisRestUrl: gateway.url,
      redisRestToken,
      wsProxy: bridge.wsProxy,
      neonHttpUrl: neonHttp.url,
      ipHashSecret,
      jwtSecret,
      webhookSecretsKey: opts.apiVars?.WEBHOOK_SECRETS_KEY ?? webhookSecretsKey,
      edgeConfig,
      apiConfig,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * WEBHOOK_SECRETS_KEY for a local stack: a new key per stack, like JWT_SECRET; but a persistent
 * embedded database (`pnpm dev`'s PGLITE_DIR) keeps its key in a file beside it, so webhook
 * secrets sealed in an earlier run still open.
 */
async function localSecretsKey(pglite: unknown): Promise<string> {
  const fresh = `k1:${randomBytes(32).toString("base64url")}`;
  const dir = process.env.PGLITE_DIR;
  if (!pglite || !dir) return fresh;
  const file = path.join(dir, "..", "webhook-secrets.key");
  const kept = await readFile(file, "utf8").catch(() => "");
  if (kept.trim() !== "") return kept.trim();
  await writeFile(file, fresh, { mode: 0o600 });
  return fresh;
}
