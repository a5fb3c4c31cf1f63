// The Hono environment of the API worker: bindings plus the services of the request (STYLE:
// services through context). Middleware declares the variables it sets next to its accessor.

import type { Database } from "@afftrack/db";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Context } from "hono";
import type { Kysely } from "kysely";
import type { ApiConfig, ApiEnv } from "./config";
import type { Services } from "./services/factory";
import type { Logger } from "./services/logger";

export interface ApiVariables {
  services: Services;
  config: ApiConfig;
  log: Logger;
  requestId: string;
  /** Lazily opened Kysely for this request. */
  db: () => Kysely<Database>;
  redis: Redis;
}

export type AppEnv = { Bindings: ApiEnv; Variables: ApiVariables };
export type AppContext = Context<AppEnv>;

/** The request's ctx.waitUntil; none without an execution context (a unit test's app.request). */
export function waitUntilOf(c: AppContext): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}
