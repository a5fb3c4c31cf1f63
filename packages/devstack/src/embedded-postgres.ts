// PGlite (Postgres compiled to WASM) behind a Postgres wire-protocol TCP listener, so `pg` and the Neon
// Pool (through the bridge) work on a machine with no Postgres installed.
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgresOptions {
  /** Directory for the cluster files; undefined keeps everything in memory. */
  dataDir?: string;
  /** 0 or undefined: a random free port. */
  port?: number;
}

export interface EmbeddedPostgres {
  connectionString: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

// pglite-socket defaults to ONE connection and turns any second client away with a non-protocol
// "Too many connections" line. PGlite itself is a single session, so with a higher limit the library
// multiplexes: it queues protocol messages from all connections onto that session and, while one
// connection has a transaction open, holds every other connection's messages until it commits or rolls
// back (a disconnect mid-transaction is rolled back). What follows for callers:
// - concurrent queries are serialised, not parallel; a long transaction stalls everybody;
// - session state is shared across connections (SET, temp tables, named prepared statements, LISTEN);
// - there is no cancel (CancelRequest is dropped) and no SSL.
// Enough for a dev server and tests; the real-Postgres path is the one that matches production.
const MAX_CONNECTIONS = 100;
const HOST = "127.0.0.1";

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const db =
    opts.dataDir === undefined ? await PGlite.create() : await PGlite.create({ dataDir: opts.dataDir });
  const server = new PGLiteSocketServer({
    db,
    host: HOST,
    port: opts.port ?? 0,
    maxConnections: MAX_CONNECTIONS,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // getServerConn() is "host:port" once listening, with the OS-assigned port filled in.
  const port = Number(server.getServerConn().split(":").pop());
  if (!Number.isInteger(port) || port <= 0) {
    await server.stop();
    await db.close();
    throw new Error(`embedded postgres: could not determine the listening port (${server.getServerConn()})`);
  }

  let closing: Promise<void> | null = null;
  return {
    // PGlite has a single database, "postgres", and accepts any user without a password.
    connectionString: `postgresql://postgres@${HOST}:${port}/postgres?sslmode=disable`,
    host: HOST,
    port,
    close: () => {
      closing ??= (async () => {
        await server.stop();
        // stop() starts each connection's detach (which may ROLLBACK) without awaiting it; let those
        // run before the database goes away underneath them.
        await new Promise((resolve) => setTimeout(resolve, 20));
        await db.close();
      })();
      return closing;
    },
  };
}
