// PGlite must pass for Postgres with the two clients the project uses: `pg` directly (migrations, CLI)
// and the Neon Pool through the bridge (workers), including several connections at once.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../src/embedded-postgres";
import { type NeonBridge, startNeonBridge } from "../src/neon-bridge";

describe("embedded postgres (in memory)", () => {
  let db: EmbeddedPostgres;

  beforeAll(async () => {
    db = await startEmbeddedPostgres({});
  });

  afterAll(async () => {
    await db.close();
  });

  it("serves pg: create table, insert, select", async () => {
    const client = new pg.Client({ connectionString: db.connectionString });
    await client.connect();
    try {
      await client.query("create table links (id serial primary key, slug text not null unique, hits int)");
      await client.query("insert into links (slug, hits) values ($1, $2), ($3, $4)", ["a", 1, "b", 2]);
      const { rows } = await client.query("select slug, hits from links order by id");
      expect(rows).toEqual([
        { slug: "a", hits: 1 },
        { slug: "b", hits: 2 },
      ]);
      await expect(client.query("insert into links (slug) values ('a')")).rejects.toThrow(/duplicate key/);
    } finally {
      await client.end();
    }
  });

  it("accepts several pg connections at once and keeps their transactions apart", async () => {
    const pool = new pg.Pool({ connectionString: db.connectionString, max: 5 });
    try {
      await pool.query("create table counters (id int primary key, n int not null)");
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const client = await pool.connect();
          try {
            await client.query("begin");
            await client.query("insert into counters values ($1, $2)", [i, i * 10]);
            await new Promise((resolve) => setTimeout(resolve, 5));
            const { rows } = await client.query(`select n, ${i} as tag from counters where id = $1`, [i]);
            expect(rows).toEqual([{ n: i * 10, tag: i }]);
            await client.query(i % 2 === 0 ? "commit" : "rollback");
          } finally {
            client.release();
          }
        }),
      );
      const { rows } = await pool.query("select id from counters order by id");
      expect(rows.map((r) => r.id)).toEqual([0, 2, 4, 6, 8]);
    } finally {
      await pool.end();
    }
  });

  describe("through the neon bridge", () => {
    let bridge: NeonBridge;
    let pool: NeonPool;

    beforeAll(async () => {
      bridge = await startNeonBridge({ allow: [{ host: db.host, port: db.port }] });
      neonConfig.webSocketConstructor = WebSocket;
      neonConfig.useSecureWebSocket = false;
      neonConfig.wsProxy = (host, port) => `${bridge.wsProxy}?address=${host}:${port}`;
      pool = new NeonPool({ connectionString: db.connectionString });
    });

    afterAll(async () => {
      await pool.end();
      await bridge.close();
    });

    it("reads what pg wrote", async () => {
      const { rows } = await pool.query("select slug from links where hits > $1 order by slug", [0]);
      expect(rows).toEqual([{ slug: "a" }, { slug: "b" }]);
    });

    it("runs an interactive transaction", async () => {
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("insert into links (slug, hits) values ($1, $2)", ["neon", 7]);
        const inside = await client.query("select hits from links where slug = 'neon'");
        expect(inside.rows).toEqual([{ hits: 7 }]);
        await client.query("commit");
      } finally {
        client.release();
      }
      const { rows } = await pool.query("select hits from links where slug = $1", ["neon"]);
      expect(rows).toEqual([{ hits: 7 }]);
    });

    it("serves concurrent queries", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          pool.query(`select $1::int + 1 as n, ${i} as tag`, [i]).then((r) => r.rows[0]),
        ),
      );
      expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ n: i + 1, tag: i })));
    });
  });
});

describe("embedded postgres (on disk)", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "devstack-pglite-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps data across restarts", async () => {
    const first = await startEmbeddedPostgres({ dataDir: dir });
    const writer = new pg.Client({ connectionString: first.connectionString });
    await writer.connect();
    await writer.query("create table kept (v text)");
    await writer.query("insert into kept values ('survives')");
    await writer.end();
    await first.close();

    const second = await startEmbeddedPostgres({ dataDir: dir });
    const reader = new pg.Client({ connectionString: second.connectionString });
    try {
      await reader.connect();
      const { rows } = await reader.query("select v from kept");
      expect(rows).toEqual([{ v: "survives" }]);
    } finally {
      await reader.end();
      await second.close();
    }
  });
});
