// neon() over the local SQL-over-HTTP endpoint must answer as Neon's proxy does and give the same
// values as the Neon Pool over the bridge, on the real Postgres and on the embedded PGlite alike.
import { randomBytes, randomUUID } from "node:crypto";
import { type FieldDef, NeonDbError, neon, neonConfig, Pool } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { type NeonBridge, startNeonBridge } from "../src/neon-bridge";
import { type NeonHttp, startNeonHttp } from "../src/neon-http";
import { DATABASE_URL } from "./helpers";

interface Target {
  connectionString: string;
  http: NeonHttp;
  bridge: NeonBridge;
  close(): Promise<void>;
}

function address(connectionString: string) {
  const url = new URL(connectionString);
  return { host: url.hostname, port: Number(url.port || 5432) };
}

/** A throwaway database on the real Postgres, dropped at the end. */
async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `devstack_http_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = new pg.Client({ connectionString: DATABASE_URL });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}

async function postgresTarget(): Promise<Target> {
  const db = await createScratchDatabase();
  const bridge = await startNeonBridge({ allow: [address(db.url)] });
  const http = await startNeonHttp({ databaseUrl: db.url });
  return {
    connectionString: db.url,
    http,
    bridge,
    close: async () => {
      await http.close();
      await bridge.close();
      await db.drop();
    },
  };
}

async function pgliteTarget(): Promise<Target> {
  const embedded = await startEmbeddedPostgres({});
  const bridge = await startNeonBridge({ allow: [{ host: embedded.host, port: embedded.port }] });
  const http = await startNeonHttp({ embedded });
  return {
    connectionString: embedded.connectionString,
    http,
    bridge,
    close: async () => {
      await http.close();
      await bridge.close();
      await embedded.close();
    },
  };
}

function useTarget(target: Target): void {
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.useSecureWebSocket = false;
  neonConfig.wsProxy = (host, port) => `${target.bridge.wsProxy}?address=${host}:${port}`;
  neonConfig.fetchEndpoint = target.http.fetchEndpoint;
}

/** What Neon's proxy puts in `fields`, taken from the Pool's FieldDefs for comparison. */
function fieldShape(fields: FieldDef[]) {
  return fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: f.format,
  }));
}

const ERROR_FIELDS = [
  "message",
  "code",
  "severity",
  "detail",
  "hint",
  "position",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

function errorFields(err: unknown): Record<string, unknown> {
  const e = err as Record<string, unknown>;
  return Object.fromEntries(ERROR_FIELDS.map((k) => [k, e[k] ?? undefined]));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

// Every column type the schema (packages/db/src/migrations) uses, plus uuid, bytea and friends.
const CREATE_FIDELITY = `
  create table fidelity (
    id bigserial primary key,
    label text unique,
    t text, v varchar(20), c char(3), i integer, s smallint, b bigint, n numeric(14, 4), f float8,
    bo boolean, ts timestamptz, d date, j jsonb, js json, ta text[], ia integer[], u uuid, by bytea,
    iv interval
  )`;
const COLUMNS = [
  "label",
  "t",
  "v",
  "c",
  "i",
  "s",
  "b",
  "n",
  "f",
  "bo",
  "ts",
  "d",
  "j",
  "js",
  "ta",
  "ia",
  "u",
  "by",
  "iv",
];
const INSERT = `insert into fidelity (${COLUMNS.join(", ")}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
  returning *`;

const UUID = randomUUID();
/** Parameter rows (after the label): every type filled, all null, and the awkward edges. */
const SAMPLES: Record<string, unknown[]> = {
  full: [
    'héllo ✓ 𝄞 "quoted" \\ back\nslash',
    "varchar ü",
    "USD",
    2147483647,
    -32768,
    "9007199254740993",
    "1234567890.1234",
    1.5,
    true,
    new Date("2026-01-02T03:04:05.678Z"),
    "2026-02-28",
    { a: 1, nested: { b: [1, "x", null] }, u: "ü ✓" },
    JSON.stringify([1, 2, { k: "v" }]),
    ["a", "b,c", 'd"e', "NULL", null, "", "ünï {}"],
    [1, null, -3],
    UUID,
    Buffer.from([0, 1, 2, 127, 128, 255]),
    "1 day 02:03:04",
  ],
  nulls: Array.from({ length: COLUMNS.length - 1 }, () => null),
  edges: [
    "",
    "",
    "   ",
    0,
    0,
    "-1",
    "0.0001",
    -0.25,
    false,
    "1970-01-01T00:00:00Z",
    "0001-01-01",
    {},
    "null",
    [],
    [],
    UUID,
    Buffer.alloc(0),
    "0",
  ],
};

for (const [targetName, setup] of [
  ["postgres", postgresTarget],
  ["pglite", pgliteTarget],
] as const) {
  describe(`neon() over HTTP → ${targetName}`, () => {
    let target: Target;
    let pool: Pool;

    beforeAll(async () => {
      target = await setup();
      useTarget(target);
      pool = new Pool({ connectionString: target.connectionString });
      await pool.query(CREATE_FIDELITY);
    });

    afterAll(async () => {
      await pool?.end();
      await target?.close();
    });

    it("writes and reads every column type exactly as the Pool does", async () => {
      useTarget(target);
      const sql = neon(target.connectionString);
      for (const [name, values] of Object.entries(SAMPLES)) {
        const viaHttp = await sql.query(INSERT, [`http-${name}`, ...values]);
        const viaPool = await pool.query(INSERT, [`pool-${name}`, ...values]);
        const strip = (row: Record<string, unknown> | undefined) => ({ ...row, id: 0, label: "" });
        // Values written by either transport read back the same through either transport.
        expect(strip(viaHttp[0])).toEqual(strip(viaPool.rows[0]));
      }
      const select = "select * from fidelity order by id";
      const httpRows = await sql.query(select);
      const poolRows = (await pool.query(select)).rows;
      expect(httpRows).toHaveLength(6);
      expect(httpRows).toEqual(poolRows);

      // And they are right, not just equally wrong.
      const full = httpRows.find((r) => r.label === "http-full");
      expect(full).toMatchObject({
        t: SAMPLES.full?.[0],
        c: "USD",
        i: 2147483647,
        s: -32768,
        b: "9007199254740993",
        n: "1234567890.1234",
        f: 1.5,
        bo: true,
        ts: new Date("2026-01-02T03:04:05.678Z"),
        j: { a: 1, nested: { b: [1, "x", null] }, u: "ü ✓" },
        js: [1, 2, { k: "v" }],
        ta: ["a", "b,c", 'd"e', "NULL", null, "", "ünï {}"],
        ia: [1, null, -3],
        u: UUID,
      });
      expect(Buffer.from(full?.by as Uint8Array).equals(Buffer.from([0, 1, 2, 127, 128, 255]))).toBe(true);
      const nulls = httpRows.find((r) => r.label === "http-nulls");
      expect(Object.values({ ...nulls, id: null, label: null }).every((v) => v === null)).toBe(true);
      const edges = httpRows.find((r) => r.label === "http-edges");
      expect(edges).toMatchObject({ t: "", ta: [], ia: [], j: {}, js: null, bo: false, b: "-1" });
    });

    it("returns Neon's full results: command, rowCount, fields, rowAsArray", async () => {
      useTarget(target);
      const full = neon(target.connectionString, { fullResults: true });
      const select = "select id, t, ta, n, j from fidelity where label like $1 order by id";
      const viaHttp = await full.query(select, ["%-full"]);
      const viaPool = await pool.query(select, ["%-full"]);
      expect(viaHttp.command).toBe("SELECT");
      expect(viaHttp.rowCount).toBe(2);
      expect(viaHttp.rowAsArray).toBe(false);
      expect(fieldShape(viaHttp.fields)).toEqual(fieldShape(viaPool.fields));
      expect(viaHttp.fields.every((f) => f.tableID > 0 && f.columnID > 0)).toBe(true);
      expect(viaHttp.rows).toEqual(viaPool.rows);

      const asArrays = neon(target.connectionString, { fullResults: true, arrayMode: true });
      const arrays = await asArrays.query(select, ["%-full"]);
      expect(arrays.rowAsArray).toBe(true);
      expect(arrays.rows).toEqual(viaPool.rows.map((r) => Object.values(r)));

      const update = await full.query("update fidelity set v = v where label like $1", ["%-nulls"]);
      expect(update).toMatchObject({ command: "UPDATE", rowCount: 2, rows: [], fields: [] });
      const ddl = await full.query("create index fidelity_t on fidelity (t)");
      expect(ddl).toMatchObject({ command: "CREATE", rowCount: null });
    });

    it("takes parameters of every type the driver serialises", async () => {
      useTarget(target);
      const sql = neon(target.connectionString);
      const query = `select $1::text as t, $2::int as i, $3::bigint as b, $4::numeric as n, $5::boolean as bo,
        $6::timestamptz as ts, $7::date as d, $8::jsonb as j, $9::text[] as ta, $10::uuid as u, $11::bytea as by,
        $12::text as nothing, $13::int[] as ia`;
      const params = [
        "ünï ✓ 'x'",
        -7,
        "-9007199254740993",
        "0.10",
        false,
        new Date("2025-12-31T23:59:59.999Z"),
        "2024-02-29",
        { list: [1, { deep: true }], s: "ü" },
        ["x y", "", null, "{}", "\\"],
        UUID,
        Buffer.from("bytes ✓"),
        null,
        [],
      ];
      const [viaHttp] = await sql.query(query, params);
      const [viaPool] = (await pool.query(query, params)).rows;
      expect(viaHttp).toEqual(viaPool);
      expect(viaHttp).toMatchObject({ t: "ünï ✓ 'x'", i: -7, b: "-9007199254740993", bo: false, ia: [] });
      expect(viaHttp?.ta).toEqual(["x y", "", null, "{}", "\\"]);
      expect(Buffer.from(viaHttp?.by as Uint8Array).toString()).toBe("bytes ✓");
      // The tagged template form sends the same wire format.
      const [tagged] = await sql`select ${"tagged ✓"}::text as t, ${42}::int as i, ${null}::text as z`;
      expect(tagged).toEqual({ t: "tagged ✓", i: 42, z: null });
    });

    it("reports Postgres errors as NeonDbError with the same fields the Pool sees", async () => {
      useTarget(target);
      const sql = neon(target.connectionString);
      const [row] = await sql.query("select id from fidelity where label = 'http-full'");
      const duplicate = "insert into fidelity (id, label) values ($1, 'dup')";
      const httpErr = await rejection(sql.query(duplicate, [row?.id]));
      const poolErr = await rejection(pool.query(duplicate, [row?.id]));
      expect(httpErr).toBeInstanceOf(NeonDbError);
      expect(httpErr).toMatchObject({ code: "23505", constraint: "fidelity_pkey", table: "fidelity" });
      expect(errorFields(httpErr)).toEqual(errorFields(poolErr));

      const syntax = await rejection(sql.query("selec 1"));
      expect(syntax).toBeInstanceOf(NeonDbError);
      expect(syntax).toMatchObject({ code: "42601", position: "1" });
      expect(errorFields(syntax)).toEqual(errorFields(await rejection(pool.query("selec 1"))));

      // Extended protocol, as Neon: one statement per query.
      expect(await rejection(sql.query("select 1; select 2"))).toMatchObject({ code: "42601" });
      // The endpoint keeps serving after errors.
      expect(await sql.query("select 1 as ok")).toEqual([{ ok: 1 }]);
    });

    it("runs a batch as one transaction that rolls back completely at its first error", async () => {
      useTarget(target);
      const sql = neon(target.connectionString);
      const [row] = await sql.query("select id from fidelity where label = 'http-full'");
      const err = await rejection(
        sql.transaction([
          sql`insert into fidelity (label) values ('batch-first')`,
          sql`insert into fidelity (id, label) values (${row?.id}, 'batch-dup')`,
          sql`insert into fidelity (label) values ('batch-never')`,
        ]),
      );
      expect(err).toBeInstanceOf(NeonDbError);
      expect(err).toMatchObject({ code: "23505" });
      expect(await sql`select count(*)::int as n from fidelity where label like 'batch-%'`).toEqual([
        { n: 0 },
      ]);

      const results = await sql.transaction((tx) => [
        tx`insert into fidelity (label) values ('batch-kept') returning label`,
        tx`select count(*)::int as n from fidelity where label = 'batch-kept'`,
      ]);
      expect(results).toEqual([[{ label: "batch-kept" }], [{ n: 1 }]]);
    });

    it("applies the batch's isolation level, read-only and deferrable", async () => {
      useTarget(target);
      const sql = neon(target.connectionString);
      const settings = (opts: Parameters<typeof sql.transaction>[1]) =>
        sql
          .transaction(
            [
              sql`show transaction_isolation`,
              sql`show transaction_read_only`,
              sql`show transaction_deferrable`,
            ],
            opts,
          )
          .then((results) =>
            results.map((rows) => Object.values((rows as Array<Record<string, unknown>>)[0] ?? {})[0]),
          );
      expect(await settings({})).toEqual(["read committed", "off", "off"]);
      expect(await settings({ isolationLevel: "Serializable", readOnly: true, deferrable: true })).toEqual([
        "serializable",
        "on",
        "on",
      ]);
      expect(await settings({ isolationLevel: "RepeatableRead" })).toEqual(["repeatable read", "off", "off"]);
      expect(await settings({ isolationLevel: "ReadUncommitted", readOnly: false })).toEqual([
        "read uncommitted",
        "off",
        "off",
      ]);

      const readOnlyWrite = await rejection(
        sql.transaction([sql`insert into fidelity (label) values ('read-only')`], { readOnly: true }),
      );
      expect(readOnlyWrite).toBeInstanceOf(NeonDbError);
      expect(readOnlyWrite).toMatchObject({ code: "25006" });
    });

    it("serves many concurrent requests", async () => {
      useTarget(target);
      const sql = neon(target.connectionString);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => sql.query("select $1::int * 2 as n", [i]).then((r) => r[0]?.n)),
      );
      expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    });

    it("refuses other databases", async () => {
      useTarget(target);
      const url = new URL(target.connectionString);
      url.pathname = "/some_other_db";
      const err = await rejection(neon(url.toString()).query("select 1"));
      expect(err).toBeInstanceOf(NeonDbError);
      expect((err as Error).message).toMatch(/HTTP status 403/);
    });
  });
}

describe("the /sql wire format", () => {
  let target: Target;
  let single: NeonHttp;

  beforeAll(async () => {
    target = await postgresTarget();
    // One connection, so what one request leaves behind is what the next one gets.
    single = await startNeonHttp({ databaseUrl: target.connectionString, poolSize: 1 });
  });

  afterAll(async () => {
    await single?.close();
    await target?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}, endpoint = target.http.url) =>
    fetch(endpoint, {
      method: "POST",
      headers: { "Neon-Connection-String": target.connectionString, ...headers },
      body: JSON.stringify(body),
    });

  it("answers raw text in array mode exactly as Neon's proxy", async () => {
    const res = await post(
      { query: "select 1::int as one, null::text as nothing, $1::text[] as arr", params: [["a", "b c"]] },
      { "Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({
      command: "SELECT",
      rowCount: 1,
      rows: [["1", null, '{a,"b c"}']],
      fields: [
        {
          name: "one",
          dataTypeID: 23,
          tableID: 0,
          columnID: 0,
          dataTypeSize: 4,
          dataTypeModifier: -1,
          format: "text",
        },
        {
          name: "nothing",
          dataTypeID: 25,
          tableID: 0,
          columnID: 0,
          dataTypeSize: -1,
          dataTypeModifier: -1,
          format: "text",
        },
        {
          name: "arr",
          dataTypeID: 1009,
          tableID: 0,
          columnID: 0,
          dataTypeSize: -1,
          dataTypeModifier: -1,
          format: "text",
        },
      ],
      rowAsArray: true,
    });
  });

  it("answers objects, and JSON values without raw text output", async () => {
    const res = await post({
      query: `select true as yes, 7::int2 as small, 8::int8 as big, 'NaN'::float8 as nan, 2.5::float8 as f,
        '{"k":[1,null]}'::jsonb as j, array[1,null,3] as ia, array['x','y"z',null] as ta, 1.50::numeric as n,
        array[[true,false],[false,true]] as nested`,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: unknown[]; rowAsArray: boolean };
    expect(body.rowAsArray).toBe(false);
    expect(body.rows).toEqual([
      {
        yes: true,
        small: 7,
        big: "8",
        nan: "NaN",
        f: 2.5,
        j: { k: [1, null] },
        ia: [1, null, 3],
        ta: ["x", 'y"z', null],
        n: "1.50",
        nested: [
          [true, false],
          [false, true],
        ],
      },
    ]);
  });

  it("takes JSON parameters as Neon does: numbers, booleans, objects and arrays as text", async () => {
    const res = await post(
      {
        query:
          "select $1::int as i, $2::boolean as b, $3::jsonb as j, $4::text[] as ta, $5::int[] as nested, $6::text as n",
        params: [
          5,
          true,
          { a: "ü" },
          ['q"uote', null, "NULL"],
          [
            [1, 2],
            [3, 4],
          ],
          null,
        ],
      },
      { "Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true" },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: unknown[][] };
    expect(body.rows[0]).toEqual(["5", "t", '{"a": "ü"}', '{"q\\"uote",NULL,"NULL"}', "{{1,2},{3,4}}", null]);
  });

  it("answers a batch with results and echoes its transaction headers", async () => {
    const res = await post(
      {
        queries: [
          { query: "show transaction_isolation" },
          { query: "show transaction_deferrable", params: [] },
        ],
      },
      {
        "Neon-Raw-Text-Output": "true",
        "Neon-Array-Mode": "true",
        "Neon-Batch-Isolation-Level": "Serializable",
        "Neon-Batch-Read-Only": "true",
        // Only the exact value "true" counts.
        "Neon-Batch-Deferrable": "TRUE",
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("neon-batch-isolation-level")).toBe("Serializable");
    expect(res.headers.get("neon-batch-read-only")).toBe("true");
    expect(res.headers.get("neon-batch-deferrable")).toBeNull();
    const body = (await res.json()) as { results: Array<{ rows: unknown[][]; command: string }> };
    expect(body.results.map((r) => r.rows[0]?.[0])).toEqual(["serializable", "off"]);
    expect(body.results[0]?.command).toBe("SHOW");
  });

  it("reports a Postgres error with Neon's error body", async () => {
    const res = await post({ query: "select 1/0" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ message: "division by zero", code: "22012", severity: "ERROR" });
    expect(Object.keys(body).sort()).toEqual(
      [
        "message",
        "code",
        "detail",
        "hint",
        "position",
        "internalPosition",
        "internalQuery",
        "severity",
        "where",
        "table",
        "column",
        "schema",
        "dataType",
        "constraint",
        "file",
        "line",
        "routine",
      ].sort(),
    );
  });

  it("refuses malformed requests and foreign databases", async () => {
    expect((await post({ query: "select 1" }, { "Neon-Batch-Isolation-Level": "Chaos" })).status).toBe(400);
    expect((await post({ nothing: true })).status).toBe(400);
    const noHeader = await fetch(target.http.url, {
      method: "POST",
      body: JSON.stringify({ query: "select 1" }),
    });
    expect(noHeader.status).toBe(400);
    const other = new URL(target.connectionString);
    other.username = "someone_else";
    expect((await post({ query: "select 1" }, { "Neon-Connection-String": other.toString() })).status).toBe(
      403,
    );
    other.username = new URL(target.connectionString).username;
    other.port = "6543";
    expect((await post({ query: "select 1" }, { "Neon-Connection-String": other.toString() })).status).toBe(
      403,
    );
    expect((await post({ query: "select 1" }, { "Neon-Connection-String": "mysql://x@y/z" })).status).toBe(
      400,
    );
    expect((await fetch(target.http.url.replace("/sql", "/nope"), { method: "POST" })).status).toBe(404);
    expect((await fetch(target.http.url)).status).toBe(405);
  });

  it("answers CORS preflights, so browsers and workerd alike may call it", async () => {
    const res = await fetch(target.http.url, { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/Neon-Connection-String/);
    const ok = await post({ query: "select 1" });
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("never hands a connection left inside a transaction to the next request", async () => {
    const begin = await post({ query: "begin isolation level serializable" }, {}, single.url);
    expect(await begin.json()).toMatchObject({ command: "BEGIN", rowCount: null });
    // Still inside that transaction, this would say "serializable".
    const res = await post({ query: "show transaction_isolation" }, {}, single.url);
    expect(((await res.json()) as { rows: unknown[] }).rows).toEqual([
      { transaction_isolation: "read committed" },
    ]);
  });

  it("keeps the connection to the client alive between requests", async () => {
    const res = await post({ query: "select 1" });
    await res.arrayBuffer();
    expect(res.headers.get("connection")).not.toBe("close");
  });
});
