// Kysely over the Neon serverless Pool. In a Worker, create one per request (or batch) and end
// it in waitUntil; locally `wsProxy` points the driver at the devstack's WebSocket bridge.

import { neonConfig, Pool } from "@neondatabase/serverless";
import { Kysely, PostgresDialect, type PostgresPool } from "kysely";
import type { Database } from "./schema";

export interface DbOptions {
  connectionString: string;
  /** e.g. "127.0.0.1:8788/v1": set only for the local bridge (plain ws, no pipelined connect). */
  wsProxy?: string | undefined;
  max?: number;
}

export interface DbHandle {
  db: Kysely<Database>;
  /** Closes the pool; pass to ctx.waitUntil in a Worker. */
  close(): Promise<void>;
}

let configuredProxy: string | undefined;

function configureNeon(wsProxy: string | undefined): void {
  if (!wsProxy || configuredProxy === wsProxy) return;
  configuredProxy = wsProxy;
  neonConfig.wsProxy = (host, port) => `${wsProxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  // Required with SCRAM auth through a plain bridge (FACTS.md).
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
}

export function createDb(opts: DbOptions): DbHandle {
  configureNeon(opts.wsProxy);
  const pool = new Pool({ connectionString: opts.connectionString, max: opts.max ?? 4 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: pool as unknown as PostgresPool }),
  });
  let closed = false;
  return {
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
