// The one place that builds a unit of work's services (database, Redis, clock, logger) from the
// environment. HTTP requests, queue consumers, the RPC entrypoint and Durable Objects all use it,
// so tests swap a service by building different services, never by patching modules.

import { createDb, type Database, type DbHandle } from "@afftrack/db";
import { Redis } from "@upstash/redis/cloudflare";
import type { Kysely } from "kysely";
import { type ApiConfig, type ApiEnv, parseConfig } from "../config";
import { createLogger, type LogFields, type Logger } from "./logger";
import { batchRedisRequests } from "./redis-batch";

export interface Services {
  config: ApiConfig;
  log: Logger;
  /** Milliseconds since the epoch; the only clock handlers read. */
  now(): number;
  /**
   * Kysely over the database: statements over Neon's HTTP path, interactive transactions over a
   * WebSocket Pool client (opened on first use, closed by `close()`).
   */
  db(): Kysely<Database>;
  redis: Redis;
  /** Ends what this unit of work opened; pass to waitUntil. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Fields every log line of this unit of work carries (request id, queue, ...). */
  log?: LogFields;
  /** Pool size when the unit of work runs transactions concurrently (default 4). */
  dbConnections?: number;
  /**
   * Merge this unit of work's Redis requests with those of concurrent HTTP requests of the isolate
   * (redis-batch.ts): HTTP requests only, each of which drives its own I/O.
   */
  batchRedis?: boolean;
}

let redisCache: { config: ApiConfig; batched: Redis } | undefined;

/**
 * The Upstash client of a unit of work. The one shared by the isolate's HTTP requests merges their
 * requests through redis-batch (each waiter keeps a timer of its own) and has the library's
 * auto-pipelining OFF: that would put one request's command into a pipeline another request sends,
 * leaving it waiting only on that request's I/O, which workerd cancels as hung (a 500 under load).
 * Any other unit of work gets a client of its own, whose auto-pipelining merges only its own calls.
 */
function redisFor(config: ApiConfig, batched: boolean): Redis {
  const client = (enableAutoPipelining: boolean) =>
    new Redis({
      url: config.redisUrl,
      token: config.redisToken,
      retry: { retries: 2 },
      enableAutoPipelining,
    });
  if (!batched) return client(true);
  if (redisCache?.config !== config) redisCache = { config, batched: batchRedisRequests(client(false)) };
  return redisCache.batched;
}

/**
 * @example
 * const services = createServices(env, { log: { queue: batch.queue } });
 * try { await work(services) } finally { ctx.waitUntil(services.close()) }
 */
export function createServices(env: ApiEnv, opts: ServiceOptions = {}): Services {
  const config = parseConfig(env);
  let handle: DbHandle | undefined;
  return {
    config,
    log: createLogger({ level: config.logLevel }, opts.log),
    now: () => Date.now(),
    db: () => {
      handle ??= createDb({
        connectionString: config.databaseUrl,
        wsProxy: config.neonWsProxy,
        httpEndpoint: config.neonHttpEndpoint,
        max: opts.dbConnections ?? 4,
      });
      return handle.db;
    },
    redis: redisFor(config, opts.batchRedis === true),
    close: async () => {
      await handle?.close();
    },
  };
}
