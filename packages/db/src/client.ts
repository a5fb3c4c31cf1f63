// Kysely over Neon's serverless driver, the way Neon advises: one-shot statements and
// non-interactive work go over HTTP (`neon()`: no connection setup per request, Neon's proxy
// pools), and only an interactive transaction (`db.transaction()`) opens a WebSocket Pool client,
// on first use. Locally the devstack serves both (its SQL-over-HTTP endpoint and WebSocket bridge).

import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  type PostgresPool,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import { NeonDialect } from "kysely-neon";
import type { Database } from "./schema";

export interface DbOptions {
  connectionString: string;
  /** e.g. "127.0.0.1:8788/v1": the local WebSocket bridge (plain ws). Unset in production. */
  wsProxy?: string | undefined;
  /** e.g. "http://127.0.0.1:8790/sql": the local SQL-over-HTTP endpoint. Unset in production. */
  httpEndpoint?: string | undefined;
  /** Pool size for interactive transactions. */
  max?: number;
}

export interface DbHandle {
  db: Kysely<Database>;
  /** Closes the Pool if a transaction opened it; pass to ctx.waitUntil in a Worker. */
  close(): Promise<void>;
}

let configured: string | undefined;

function configureNeon(opts: DbOptions): void {
  const key = `${opts.wsProxy ?? ""}|${opts.httpEndpoint ?? ""}`;
  if (configured === key) return;
  configured = key;
  if (opts.wsProxy) {
    const proxy = opts.wsProxy;
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
  }
  if (opts.httpEndpoint) neonConfig.fetchEndpoint = opts.httpEndpoint;
}

/** A connection that speaks HTTP until a transaction begins, then a Pool client until it ends. */
class HybridConnection implements DatabaseConnection {
  pooled: DatabaseConnection | undefined;
  constructor(readonly http: DatabaseConnection) {}
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (this.pooled ?? this.http).executeQuery<R>(query);
  }
  // biome-ignore lint/correctness/useYield: streaming is not offered by either path here
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming queries are not supported");
  }
}

class HybridDriver implements Driver {
  constructor(
    private readonly http: Driver,
    private readonly pool: () => Driver,
  ) {}
  async init(): Promise<void> {
    await this.http.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new HybridConnection(await this.http.acquireConnection());
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const hybrid = connection as HybridConnection;
    const pool = this.pool();
    await pool.init();
    hybrid.pooled = await pool.acquireConnection();
    await pool.beginTransaction(hybrid.pooled, settings);
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection, (pool, c) => pool.commitTransaction(c));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection, (pool, c) => pool.rollbackTransaction(c));
  }
  private async end(
    connection: DatabaseConnection,
    finish: (pool: Driver, c: DatabaseConnection) => Promise<void>,
  ) {
    const hybrid = connection as HybridConnection;
    const pooled = hybrid.pooled;
    if (!pooled) return;
    const pool = this.pool();
    try {
      await finish(pool, pooled);
    } finally {
      hybrid.pooled = undefined;
      await pool.releaseConnection(pooled);
    }
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const hybrid = connection as HybridConnection;
    if (hybrid.pooled) {
      const pooled = hybrid.pooled;
      hybrid.pooled = undefined;
      await this.pool().releaseConnection(pooled);
    }
    await this.http.releaseConnection(hybrid.http);
  }
  async destroy(): Promise<void> {
    await this.http.destroy();
  }
}

export function createDb(opts: DbOptions): DbHandle {
  configureNeon(opts);
  let poolDriver: Driver | undefined;
  const httpDriver = new NeonDialect({ neon: neon(opts.connectionString) }).createDriver();
  const pool = () => {
    poolDriver ??= new PostgresDialect({
      pool: new Pool({
        connectionString: opts.connectionString,
        max: opts.max ?? 4,
      }) as unknown as PostgresPool,
    }).createDriver();
    return poolDriver;
  };
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new HybridDriver(httpDriver, pool),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
  const db = new Kysely<Database>({ dialect });
  let closed = false;
  return {
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      await poolDriver?.destroy();
    },
  };
}
