// A database handle for one request or batch; its pool is closed in waitUntil.

import { createDb, type DbHandle } from "@afftrack/db";
import type { ApiEnv } from "../env";

export function openDb(env: ApiEnv, max = 4): DbHandle {
  return createDb({ connectionString: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY, max });
}
