// The Neon Pool, configured the way the workers are locally, must reach the real Postgres through the
// bridge, and nothing else.
import { neonConfig, Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type NeonBridge, startNeonBridge } from "../src/neon-bridge";
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
