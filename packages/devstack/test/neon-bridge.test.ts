// The Neon Pool, configured the way the workers are locally and with the driver's default pipelined
// connect, must reach the real Postgres, PgBouncer and password-checking servers through the bridge,
// and nothing else.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { neonConfig, Pool } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../src/free-port";
import { type NeonBridge, startNeonBridge } from "../src/neon-bridge";
import { type PgBouncerHandle, startPgBouncer } from "../src/pgbouncer";
import { closedPort, DATABASE_URL } from "./helpers";

const database = new URL(DATABASE_URL);
const dbHost = database.hostname;
const dbPort = Number(database.port || 5432);

/** Status of a raw upgrade attempt: 101 when accepted, the HTTP status when refused. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(err);
    });
  });
}

describe("neon bridge → real Postgres", () => {
  let bridge: NeonBridge;
  let pool: Pool;

  beforeAll(async () => {
    bridge = await startNeonBridge({ allow: [{ host: dbHost, port: dbPort }] });
    neonConfig.webSocketConstructor = WebSocket;
    neonConfig.useSecureWebSocket = false;
    neonConfig.wsProxy = (host, port) => `${bridge.wsProxy}?address=${host}:${port}`;
    pool = new Pool({ connectionString: DATABASE_URL });
  });

  afterAll(async () => {
    await pool.end();
    await bridge.close();
  });

  it("runs a query", async () => {
    const { rows } = await pool.query("select 1 as one, $1::text as echo", ["héllo"]);
    expect(rows).toEqual([{ one: 1, echo: "héllo" }]);
  });

  it("runs an interactive transaction on one connection", async () => {
    const client = await pool.connect();
    try {
      await client.query("create temp table bridge_tx (id int primary key, note text)");
      await client.query("begin");
      await client.query("insert into bridge_tx values ($1, $2)", [1, "kept"]);
      await client.query("commit");
      await client.query("begin");
      await client.query("insert into bridge_tx values ($1, $2)", [2, "rolled back"]);
      await client.query("rollback");
      const { rows } = await client.query("select id, note from bridge_tx order by id");
      expect(rows).toEqual([{ id: 1, note: "kept" }]);
      // A failing statement must come back as an error, not a dead connection.
      await expect(client.query("insert into bridge_tx values (1, 'dup')")).rejects.toThrow(/duplicate key/);
      expect((await client.query("select count(*)::int as n from bridge_tx")).rows[0]).toEqual({ n: 1 });
    } finally {
      client.release();
    }
  });

  it("serves 20 concurrent queries", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.query("select $1::int as n, pg_sleep(0.02)::text as slept", [i]).then((r) => r.rows[0]?.n),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("carries large results across many frames", async () => {
    const { rows } = await pool.query("select repeat('x', 3000000) as big, generate_series(1, 3) as i");
    expect(rows).toHaveLength(3);
    expect(rows[0]?.big).toHaveLength(3_000_000);
  });

  it("refuses addresses that are not allowed", async () => {
    const other = await closedPort();
    expect(await upgradeStatus(`ws://${bridge.wsProxy}?address=${dbHost}:${other}`)).toBe(403);
    expect(await upgradeStatus(`ws://${bridge.wsProxy}?address=example.com:5432`)).toBe(403);
    expect(await upgradeStatus(`ws://${bridge.wsProxy}?address=nonsense`)).toBe(400);
    expect(await upgradeStatus(`ws://${bridge.wsProxy}?address=${dbHost}:${dbPort}`)).toBe(101);

    const refused = new Pool({ connectionString: `postgres://postgres@${dbHost}:${other}/test` });
    refused.on("error", () => {});
    try {
      await expect(refused.query("select 1")).rejects.toThrow();
    } finally {
      await refused.end();
    }
  });
});

describe("neon bridge with an upstream rewrite", () => {
  it("sends an allowed logical host to the configured upstream", async () => {
    const bridge = await startNeonBridge({
      allow: [{ host: "db.internal.example", port: 5432 }],
      upstream: { host: dbHost, port: dbPort },
    });
    neonConfig.webSocketConstructor = WebSocket;
    neonConfig.useSecureWebSocket = false;
    neonConfig.wsProxy = (host, port) => `${bridge.wsProxy}?address=${host}:${port}`;
    const url = new URL(DATABASE_URL);
    url.hostname = "db.internal.example";
    url.port = "5432";
    const pool = new Pool({ connectionString: url.toString() });
    try {
      const { rows } = await pool.query("select current_database() as db");
      expect(rows[0]?.db).toBe(database.pathname.slice(1));
    } finally {
      await pool.end();
      await bridge.close();
    }
  });

  it("closes the WebSocket when the upstream is unreachable", async () => {
    const port = await closedPort();
    const bridge = await startNeonBridge({ allow: [{ host: "127.0.0.1", port }] });
    try {
      const code = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://${bridge.wsProxy}?address=127.0.0.1:${port}`);
        ws.on("close", (closeCode) => resolve(closeCode));
        ws.on("error", reject);
      });
      expect(code).toBe(1011);
    } finally {
      await bridge.close();
    }
  });
});

function useBridge(bridge: NeonBridge, pipelineConnect: "password" | false = "password"): void {
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = pipelineConnect;
  neonConfig.wsProxy = (host, port) => `${bridge.wsProxy}?address=${host}:${port}`;
}

describe("neon bridge → PgBouncer (transaction pooling)", () => {
  let bouncer: PgBouncerHandle | null = null;
  let bridge: NeonBridge;

  beforeAll(async () => {
    bouncer = await startPgBouncer({
      upstream: { host: dbHost, port: dbPort },
      user: decodeURIComponent(database.username || "postgres"),
    });
    bridge = await startNeonBridge({
      allow: [{ host: dbHost, port: dbPort }],
      ...(bouncer ? { upstream: { host: bouncer.host, port: bouncer.port } } : {}),
    });
  });

  afterAll(async () => {
    await bridge?.close();
    await bouncer?.close();
  });

  it("connects with the driver's pipelined connect, queries and commits", async (ctx) => {
    if (!bouncer) return ctx.skip("pgbouncer is not installed");
    useBridge(bridge);
    const pool = new Pool({ connectionString: DATABASE_URL });
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          pool.query("select $1::int as n", [i]).then((r) => r.rows[0]?.n),
        ),
      );
      expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i));
      const client = await pool.connect();
      try {
        await client.query("begin");
        const { rows } = await client.query("select txid_current() = txid_current() as same");
        expect(rows).toEqual([{ same: true }]);
        await client.query("commit");
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});

// --- A private Postgres that really asks for passwords: 127.0.0.1 is trust on the shared server.

interface PasswordPostgres {
  port: number;
  close(): Promise<void>;
}

const PASSWORD_USERS = {
  // SCRAM, with a password SASLprep changes (the ligature becomes "fi"), as Postgres stores it.
  scram_user: "scram ﬁ pässwörd ✓",
  md5_user: "md5-secret",
  clear_user: "clear-secret",
} as const;

function postgresBinDir(): string | null {
  const fromPath = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const candidates = fromPath.status === 0 ? [fromPath.stdout.trim()] : [];
  if (existsSync("/usr/lib/postgresql"))
    for (const version of readdirSync("/usr/lib/postgresql").sort().reverse())
      candidates.push(`/usr/lib/postgresql/${version}/bin`);
  return (
    candidates.find(
      (dir) => existsSync(path.join(dir, "initdb")) && existsSync(path.join(dir, "postgres")),
    ) ?? null
  );
}

/** Null when Postgres's server binaries are not installed or cannot be run here. */
async function startPasswordPostgres(): Promise<PasswordPostgres | null> {
  const bin = postgresBinDir();
  if (!bin) return null;
  // Postgres refuses to run as root: run it as the postgres user then.
  let ids: { uid: number; gid: number } | Record<string, never> = {};
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    if (!uid || !gid) return null;
    ids = { uid, gid };
  }
  const run = (cmd: string, args: string[]) => spawn(cmd, args, { ...ids, stdio: "ignore" });
  const dir = await mkdtemp(path.join(tmpdir(), "devstack-pgpw-"));
  await chmod(dir, 0o777);
  const data = path.join(dir, "data");
  const initdb = run(path.join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  const initOk = await new Promise<boolean>((resolve) => initdb.on("exit", (code) => resolve(code === 0)));
  if (!initOk) {
    await rm(dir, { recursive: true, force: true });
    return null;
  }
  await writeFile(
    path.join(data, "pg_hba.conf"),
    [
      "local all all trust",
      "host all md5_user 127.0.0.1/32 md5",
      "host all clear_user 127.0.0.1/32 password",
      "host all all 127.0.0.1/32 scram-sha-256",
    ].join("\n"),
  );
  const port = await freePort();
  const server: ChildProcess = run(path.join(bin, "postgres"), [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
  ]);
  // A crashed test run must not leave a postmaster behind. SIGINT: fast shutdown.
  const stop = () => server.kill("SIGINT");
  process.once("exit", stop);
  const admin = () => new pg.Client({ host: dir, port, user: "postgres", database: "postgres" });
  for (let i = 0; ; i++) {
    const probe = admin();
    try {
      await probe.connect();
      await probe.end();
      break;
    } catch (err) {
      if (i > 100 || server.exitCode !== null) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const setup = admin();
  await setup.connect();
  await setup.query(`create role scram_user login password '${PASSWORD_USERS.scram_user}'`);
  await setup.query(`create role clear_user login password '${PASSWORD_USERS.clear_user}'`);
  await setup.query("set password_encryption = 'md5'");
  await setup.query(`create role md5_user login password '${PASSWORD_USERS.md5_user}'`);
  await setup.end();
  return {
    port,
    close: async () => {
      process.off("exit", stop);
      await new Promise<void>((resolve) => {
        if (server.exitCode !== null) return resolve();
        server.once("exit", () => resolve());
        stop();
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe("neon bridge → a server that asks for passwords", () => {
  let server: PasswordPostgres | null = null;
  let bridge: NeonBridge;

  beforeAll(async () => {
    server = await startPasswordPostgres();
    if (server) bridge = await startNeonBridge({ allow: [{ host: "127.0.0.1", port: server.port }] });
  });

  afterAll(async () => {
    await bridge?.close();
    await server?.close();
  });

  const url = (user: string, password: string) =>
    `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${server?.port}/postgres`;

  for (const [user, password] of Object.entries(PASSWORD_USERS)) {
    for (const pipelineConnect of ["password", false] as const) {
      it(`${user}: the bridge answers ${user.split("_")[0]} auth (pipelineConnect ${pipelineConnect})`, async (ctx) => {
        if (!server)
          return ctx.skip("no Postgres server binaries (initdb) to start a password-checking server");
        useBridge(bridge, pipelineConnect);
        const pool = new Pool({ connectionString: url(user, password) });
        try {
          const { rows } = await pool.query("select current_user as who, $1::text as echo", ["ü"]);
          expect(rows).toEqual([{ who: user, echo: "ü" }]);
        } finally {
          await pool.end();
          useBridge(bridge);
        }
      });
    }

    it(`${user}: a wrong password is the server's 28P01`, async (ctx) => {
      if (!server)
        return ctx.skip("no Postgres server binaries (initdb) to start a password-checking server");
      useBridge(bridge);
      const pool = new Pool({ connectionString: url(user, "wrong") });
      pool.on("error", () => {});
      try {
        await expect(pool.query("select 1")).rejects.toMatchObject({ code: "28P01" });
      } finally {
        await pool.end();
      }
    });
  }
});

// --- The handshake frame by frame, against a scripted server.

const AUTH_OK = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
const READY = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

function typed(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function startupPacket(user: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0postgres\0\0`);
  const head = Buffer.alloc(8);
  head.writeInt32BE(params.length + 8, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, params]);
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const password = (text: string) => typed("p", Buffer.from(`${text}\0`));
const simpleQuery = (text: string) => typed("Q", Buffer.from(`${text}\0`));

interface Scripted {
  port: number;
  /** What reached the server: "startup", then each typed message as type letter and body text. */
  received: string[];
  /** Resolves once the server has seen a Query. */
  queried: Promise<void>;
  close(): Promise<void>;
}

/** A fake Postgres: `onStartup` answers the StartupMessage; any Query gets CommandComplete + ReadyForQuery. */
async function scriptedServer(onStartup: (socket: Socket, received: string[]) => void): Promise<Scripted> {
  const received: string[] = [];
  let sawQuery: () => void = () => {};
  const queried = new Promise<void>((resolve) => {
    sawQuery = resolve;
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    let started = false;
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!started) {
          if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return;
          buf = buf.subarray(buf.readInt32BE(0));
          started = true;
          received.push("startup");
          onStartup(socket, received);
          continue;
        }
        if (buf.length < 5 || buf.length < buf.readInt32BE(1) + 1) return;
        const type = String.fromCharCode(buf[0] ?? 0);
        const body = buf.subarray(5, buf.readInt32BE(1) + 1);
        buf = buf.subarray(buf.readInt32BE(1) + 1);
        received.push(`${type}:${body.toString("latin1").replace(/\0+$/, "")}`);
        if (type === "Q") {
          socket.write(Buffer.concat([typed("C", Buffer.from("SELECT 1\0")), READY]));
          sawQuery();
        }
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    port: address.port,
    received,
    queried,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw WebSocket client of the bridge that collects every byte the bridge sends back. */
async function rawClient(bridge: NeonBridge, port: number) {
  const ws = new WebSocket(`ws://${bridge.wsProxy}?address=127.0.0.1:${port}`);
  let got = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  ws.on("message", (data: Buffer) => {
    got = Buffer.concat([got, data]);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    send: (...frames: Buffer[]) => ws.send(Buffer.concat(frames)),
    received: () => got,
    /** Waits until the bytes received so far contain `needle`. */
    waitFor: async (needle: Buffer) => {
      while (!got.includes(needle)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => ws.close(),
  };
}

describe("neon bridge handshake, frame by frame", () => {
  let bridge: NeonBridge;
  const servers: Scripted[] = [];

  beforeAll(async () => {
    bridge = await startNeonBridge({ allow: [{ host: "127.0.0.1", port: 1 }] });
  });

  afterAll(async () => {
    await bridge.close();
    for (const server of servers) await server.close();
  });

  async function serverBehindBridge(onStartup: (socket: Socket, received: string[]) => void) {
    const server = await scriptedServer(onStartup);
    servers.push(server);
    await bridge.close();
    bridge = await startNeonBridge({ allow: [{ host: "127.0.0.1", port: server.port }] });
    return server;
  }

  it("answers SSLRequest itself and holds a pipelined password and query until the server lets us in", async () => {
    const server = await serverBehindBridge((socket) => {
      // A slow trust server: the password and the query are already at the bridge by now.
      setTimeout(() => socket.write(Buffer.concat([AUTH_OK, READY])), 100);
    });
    const client = await rawClient(bridge, server.port);
    client.send(SSL_REQUEST);
    await client.waitFor(Buffer.from("N"));
    expect(client.received()).toEqual(Buffer.from("N"));
    client.send(startupPacket("alice"), password("secret"), simpleQuery("select 1"));
    await server.queried;
    expect(server.received).toEqual(["startup", "Q:select 1"]);
    await client.waitFor(Buffer.from("SELECT 1"));
    // The client saw the server's answer unchanged (after the bridge's 'N').
    expect(client.received().subarray(1, 1 + AUTH_OK.length)).toEqual(AUTH_OK);
    client.close();
  });

  it("drops a pipelined password that arrives after AuthenticationOk", async () => {
    const server = await serverBehindBridge((socket) => socket.write(Buffer.concat([AUTH_OK, READY])));
    const client = await rawClient(bridge, server.port);
    client.send(startupPacket("alice"));
    await client.waitFor(READY);
    client.send(password("late"), simpleQuery("select 2"));
    await server.queried;
    expect(server.received).toEqual(["startup", "Q:select 2"]);
    client.close();
  });

  it("asks the client for its password as Neon's proxy does, then answers the server's MD5 itself", async () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const server = await serverBehindBridge((socket) => {
      const md5Request = Buffer.concat([Buffer.from([0x52, 0, 0, 0, 12, 0, 0, 0, 5]), salt]);
      socket.write(md5Request);
      socket.once("data", () => socket.write(Buffer.concat([AUTH_OK, READY])));
    });
    const client = await rawClient(bridge, server.port);
    client.send(startupPacket("bob"));
    const cleartextRequest = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);
    await client.waitFor(cleartextRequest);
    client.send(password("hunter2"), simpleQuery("select 3"));
    await server.queried;
    const inner = createHash("md5").update("hunter2bob").digest("hex");
    const expected = `md5${createHash("md5")
      .update(Buffer.concat([Buffer.from(inner), salt]))
      .digest("hex")}`;
    expect(server.received).toEqual(["startup", `p:${expected}`, "Q:select 3"]);
    // The client saw only AuthenticationCleartextPassword and AuthenticationOk, never the MD5 request.
    expect(client.received().subarray(0, cleartextRequest.length + AUTH_OK.length)).toEqual(
      Buffer.concat([cleartextRequest, AUTH_OK]),
    );
    client.close();
  });
});
