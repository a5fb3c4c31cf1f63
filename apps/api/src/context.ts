// Per-request services (STYLE: services through context). The database pool is opened lazily on
// first use and closed in waitUntil, so routes that never touch Postgres pay nothing for it.

import type { Database } from "@afftrack/db";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Context, MiddlewareHandler } from "hono";
import type { Kysely } from "kysely";
import { type ApiEnv, assertApiEnv } from "./env";
import { openDb } from "./services/db";
import { apiRedis } from "./services/redis";

export interface ApiVariables {
  /** Lazily opened Kysely over the Neon pool for this request. */
  db: () => Kysely<Database>;
  redis: Redis;
}

export type AppEnv = { Bindings: ApiEnv; Variables: ApiVariables };
export type AppContext = Context<AppEnv>;

export function initServices(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertApiEnv(c.env);
    let handle: ReturnType<typeof openDb> | undefined;
    c.set("db", () => {
      handle ??= openDb(c.env);
      return handle.db;
    });
    c.set("redis", apiRedis(c.env));
    try {
      await next();
    } finally {
      if (handle) c.executionCtx.waitUntil(handle.close());
    }
  };
}
