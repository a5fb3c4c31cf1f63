// Neon's SQL-over-HTTP endpoint (`POST /sql`, what `neon()` and `neon().transaction()` call) served
// locally over a warm `pg` pool to the configured Postgres or to the embedded PGlite.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import pg from "pg";
import type { EmbeddedPostgres } from "./embedded-postgres";

export interface NeonHttpOptions {
  /** The Postgres to serve; requests must name this database. Give this or `embedded`. */
  databaseUrl?: string;
  /** Serve the embedded PGlite instead (through its socket server, see below). */
  embedded?: Pick<EmbeddedPostgres, "connectionString">;
  /** 0 or undefined: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Connections kept open to Postgres (default 10; PGlite always 1). */
  poolSize?: number;
  /** Largest accepted request body (default 10 MiB, like Neon). */
  maxRequestBytes?: number;
  /** Largest response before answering 507 (default 10 MiB, like Neon). */
  maxResponseBytes?: number;
}

export interface NeonHttp {
  /** The full endpoint, `http://host:port/sql`. */
  url: string;
  port: number;
  /** For `neonConfig.fetchEndpoint`: every host and port the driver names goes to this endpoint. */
  fetchEndpoint: (host: string, port: number | string) => string;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers":
    "Authorization, Content-Type, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, " +
    "Neon-Batch-Isolation-Level, Neon-Batch-Read-Only, Neon-Batch-Deferrable, Neon-Pool-Opt-In",
  "access-control-max-age": "86400",
};

// Every value stays the text Postgres sent: the driver parses it with its own type parsers, keyed by
// the dataTypeID we pass along, exactly as it does with Neon's proxy.
const RAW_TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** A refusal of the request itself (not of its SQL), with the status Neon's proxy uses for it. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface QueryData {
  query: string;
  params: Array<string | null>;
  arrayMode: boolean | undefined;
}

interface RequestOptions {
  rawOutput: boolean;
  arrayMode: boolean;
  isolationLevel: string | undefined;
  readOnly: boolean;
  deferrable: boolean;
}

interface Field {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: "text";
}

interface QueryOutput {
  command: string;
  rowCount: number | null;
  rows: unknown[];
  fields: Field[];
  rowAsArray: boolean;
}

// Parameters are converted as Neon's proxy converts them (proxy/src/serverless/json.rs): strings as
// they are, other scalars and objects as JSON text, arrays as Postgres array literals.
function paramToText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}

function arrayLiteral(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return `{${value.map((item) => arrayLiteral(item) ?? "NULL").join(",")}}`;
  if (typeof value === "object") return JSON.stringify(JSON.stringify(value));
  return JSON.stringify(value);
}

function parseQueryData(value: unknown): QueryData {
  if (typeof value !== "object" || value === null) throw new HttpError(400, "query must be an object");
  const { query, params, arrayMode } = value as Record<string, unknown>;
  if (typeof query !== "string") throw new HttpError(400, "missing field `query`");
  if (params !== undefined && !Array.isArray(params)) throw new HttpError(400, "`params` must be an array");
  if (arrayMode !== undefined && typeof arrayMode !== "boolean")
    throw new HttpError(400, "`arrayMode` must be a boolean");
  return { query, params: (params ?? []).map(paramToText), arrayMode };
}

function parsePayload(body: Buffer): QueryData | QueryData[] {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new HttpError(400, `invalid JSON body: ${(err as Error).message}`);
  }
  if (typeof payload === "object" && payload !== null && "queries" in payload) {
    const { queries } = payload as { queries: unknown };
    if (!Array.isArray(queries)) throw new HttpError(400, "`queries` must be an array");
    return queries.map(parseQueryData);
  }
  return parseQueryData(payload);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseRequestOptions(req: IncomingMessage): RequestOptions {
  // As Neon: anything but the exact value "true" is false.
  const isTrue = (name: string) => headerValue(req, name) === "true";
  const level = headerValue(req, "neon-batch-isolation-level");
  if (level !== undefined && !(level in ISOLATION_LEVELS))
    throw new HttpError(400, "invalid isolation level");
  return {
    rawOutput: isTrue("neon-raw-text-output"),
    arrayMode: isTrue("neon-array-mode"),
    isolationLevel: level === undefined ? undefined : ISOLATION_LEVELS[level],
    readOnly: isTrue("neon-batch-read-only"),
    deferrable: isTrue("neon-batch-deferrable"),
  };
}

interface DatabaseTarget {
  user: string;
  password: string;
  host: string;
  port: string;
  database: string;
}

// Parsed the way the driver builds the header (a postgres URL read as an http one).
function databaseTarget(connectionString: string): DatabaseTarget | null {
  try {
    const scheme = new URL(connectionString).protocol;
    if (scheme !== "postgres:" && scheme !== "postgresql:") return null;
    const url = new URL(`http:${connectionString.slice(scheme.length)}`);
    return {
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      host: url.hostname.toLowerCase(),
      port: url.port || "5432",
      database: decodeURIComponent(url.pathname.slice(1)),
    };
  } catch {
    return null;
  }
}

// Neon's proxy reports a failed query with Postgres's own fields (null when absent), status 400.
function errorBody(message: string, db?: pg.DatabaseError): Record<string, unknown> {
  return {
    message,
    code: db?.code ?? "",
    detail: db?.detail ?? null,
    hint: db?.hint ?? null,
    position: db?.position ?? null,
    internalPosition: db?.internalPosition ?? null,
    internalQuery: db?.internalQuery ?? null,
    severity: db?.severity ?? "",
    where: db?.where ?? null,
    table: db?.table ?? null,
    column: db?.column ?? null,
    schema: db?.schema ?? null,
    dataType: db?.dataType ?? null,
    constraint: db?.constraint ?? null,
    file: db?.file ?? null,
    line: db?.line ?? null,
    routine: db?.routine ?? null,
  };
}

// --- JSON output without Neon-Raw-Text-Output (the driver always asks for raw text; other clients
// may not). Mirrors the proxy's json.rs: bool, int2/int4, float4/float8 and json/jsonb become JSON
// values, arrays of builtin types JSON arrays, everything else stays text.

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;

/** Builtin array type OIDs and their element types (user-defined arrays stay text here). */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1000, BOOL],
  [1001, 17],
  [1002, 18],
  [1003, 19],
  [1005, INT2],
  [1007, INT4],
  [1009, 25],
  [1014, 1042],
  [1015, 1043],
  [1016, 20],
  [1021, FLOAT4],
  [1022, FLOAT8],
  [1028, 26],
  [199, JSON_OID],
  [3807, JSONB],
  [1182, 1082],
  [1183, 1083],
  [1115, 1114],
  [1185, 1184],
  [1187, 1186],
  [1231, 1700],
  [2951, 2950],
  [1041, 869],
  [651, 650],
  [791, 790],
  [143, 142],
]);

function textToJson(text: string, oid: number): unknown {
  const element = ARRAY_ELEMENTS.get(oid);
  if (element !== undefined) return parseArray(text, element);
  switch (oid) {
    case BOOL:
      return text === "t";
    case INT2:
    case INT4:
      return Number.parseInt(text, 10);
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      // NaN and the infinities have no JSON number; Neon keeps them as text.
      return Number.isFinite(n) ? n : text;
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text);
    default:
      return text;
  }
}

function parseArray(literal: string, element: number): unknown[] {
  let text = literal;
  // Drop bounds decoration ("[1:2]={...}"): JSON cannot carry it.
  if (text.startsWith("[")) text = text.slice(text.indexOf("=") + 1);
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] ?? "")) i++;
  };
  const parseLevel = (): unknown[] => {
    skipSpace();
    if (text[i] !== "{") throw new Error("unbalanced array");
    i++;
    const items: unknown[] = [];
    skipSpace();
    if (text[i] === "}") {
      i++;
      return items;
    }
    for (;;) {
      skipSpace();
      if (text[i] === "{") items.push(parseLevel());
      else if (text[i] === '"') {
        i++;
        let value = "";
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\") i++;
          value += text[i] ?? "";
          i++;
        }
        i++;
        items.push(textToJson(value, element));
      } else {
        let end = i;
        while (end < text.length && text[end] !== "," && text[end] !== "}") end++;
        const item = text.slice(i, end).trim();
        i = end;
        items.push(item === "NULL" ? null : textToJson(item, element));
      }
      skipSpace();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] !== "}") throw new Error("unbalanced array");
      i++;
      return items;
    }
  };
  return parseLevel();
}

// --- running queries

type PgClient = pg.PoolClient & { getTransactionStatus(): string | null };

async function runQuery(client: PgClient, data: QueryData, opts: RequestOptions): Promise<QueryOutput> {
  // Extended protocol always, as Neon's proxy: one statement per query, even without parameters.
  const result = await client.query({
    text: data.query,
    values: data.params,
    rowMode: "array",
    types: RAW_TEXT_TYPES,
    queryMode: "extended",
  } as pg.QueryArrayConfig);
  const arrayMode = data.arrayMode ?? opts.arrayMode;
  const fields: Field[] = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: "text",
  }));
  let rows: unknown[] = result.rows as Array<Array<string | null>>;
  if (!opts.rawOutput)
    rows = (rows as Array<Array<string | null>>).map((row) =>
      row.map((v, i) => (v === null ? null : textToJson(v, fields[i]?.dataTypeID ?? 0))),
    );
  if (!arrayMode)
    rows = (rows as unknown[][]).map((row) =>
      Object.fromEntries(row.map((v, i) => [fields[i]?.name ?? "", v])),
    );
  return {
    command: result.command ?? "",
    rowCount: result.rowCount ?? null,
    rows,
    fields,
    rowAsArray: arrayMode,
  };
}

async function runBatch(
  client: PgClient,
  queries: QueryData[],
  opts: RequestOptions,
): Promise<QueryOutput[]> {
  let begin = "BEGIN";
  const modes: string[] = [];
  if (opts.isolationLevel) modes.push(`ISOLATION LEVEL ${opts.isolationLevel}`);
  if (opts.readOnly) modes.push("READ ONLY");
  if (opts.deferrable) modes.push("DEFERRABLE");
  if (modes.length > 0) begin += ` ${modes.join(", ")}`;
  await client.query(begin);
  const results: QueryOutput[] = [];
  try {
    for (const data of queries) results.push(await runQuery(client, data, opts));
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
  await client.query("COMMIT");
  return results;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `request is too large (max is ${limit} bytes)`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
    req.on("error", reject);
    // A client gone before the end of its body (no-op once resolved).
    req.on("close", () => reject(new HttpError(400, "request aborted")));
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "access-control-allow-origin": "*",
    ...extra,
  });
  res.end(body);
}

export async function startNeonHttp(opts: NeonHttpOptions): Promise<NeonHttp> {
  const connectionString = opts.embedded?.connectionString ?? opts.databaseUrl;
  if (!connectionString || (opts.embedded && opts.databaseUrl))
    throw new Error("neon http: give exactly one of databaseUrl and embedded");
  const expected = databaseTarget(connectionString);
  if (!expected) throw new Error("neon http: databaseUrl is not a postgres:// URL");
  const host = opts.host ?? "127.0.0.1";
  const maxRequestBytes = opts.maxRequestBytes ?? 10 * MIB;
  const maxResponseBytes = opts.maxResponseBytes ?? 10 * MIB;

  // PGlite is one session behind pglite-socket, which multiplexes its connections and, while one of
  // them has a transaction open, holds every other connection's messages. Going through that socket
  // (not PGlite's JS API) keeps our batches and the WebSocket clients' transactions out of each other;
  // more than one connection would buy nothing (queries run one at a time anyway) and would share
  // session state between them, so it is one.
  const pool = new pg.Pool({
    connectionString,
    max: opts.embedded ? 1 : (opts.poolSize ?? 10),
    // Warm means warm: idle connections are kept, never reaped.
    idleTimeoutMillis: 0,
    types: RAW_TEXT_TYPES,
  });
  // An idle connection dying (server restart) must not take the process down; the pool replaces it.
  pool.on("error", () => {});
  // Warm-up is best effort: with the database down the endpoint still starts and answers each
  // request as Neon's proxy would (a 5xx the driver reports), so outages can be tested.
  const warm = await Promise.allSettled(
    Array.from({ length: opts.embedded ? 1 : Math.min(opts.poolSize ?? 10, 4) }, () => pool.connect()),
  );
  for (const result of warm) if (result.status === "fulfilled") result.value.release();

  // Accepted Neon-Connection-String values, so the common case costs a map lookup.
  const verdicts = new Map<string, number>();
  const checkConnectionString = (value: string | undefined): void => {
    if (!value) throw new HttpError(400, "missing Neon-Connection-String header");
    let status = verdicts.get(value);
    if (status === undefined) {
      const target = databaseTarget(value);
      if (!target) status = 400;
      else if (
        target.host !== expected.host ||
        target.port !== expected.port ||
        target.database !== expected.database ||
        target.user !== expected.user ||
        (expected.password !== "" && target.password !== expected.password)
      )
        status = 403;
      else status = 200;
      if (verdicts.size < 256) verdicts.set(value, status);
    }
    if (status === 400) throw new HttpError(400, "Neon-Connection-String is not a valid postgres:// URL");
    if (status === 403)
      throw new HttpError(
        403,
        `this local endpoint serves only postgres://${expected.user}@${expected.host}:${expected.port}/${expected.database}`,
      );
  };

  // Local-only: SQL requests served (round trips), for benchmarks counting them. Not Neon's.
  let requests = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/__stats") {
      sendJson(res, 200, JSON.stringify({ requests }));
      return;
    }
    if (path === "/sql") requests++;
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS_HEADERS);
      res.end();
      return;
    }
    if (path !== "/sql") throw new HttpError(404, "not found: the endpoint is POST /sql");
    if (req.method !== "POST") throw new HttpError(405, "method not allowed: use POST");
    const options = parseRequestOptions(req);
    checkConnectionString(headerValue(req, "neon-connection-string"));
    // Authorization (Neon's JWT auth for RLS) is accepted and not checked: there is no local issuer.
    const payload = parsePayload(await readBody(req, maxRequestBytes));

    let client: PgClient;
    try {
      client = (await pool.connect()) as PgClient;
    } catch (err) {
      throw new HttpError(500, `could not connect to the database: ${(err as Error).message}`);
    }
    let output: QueryOutput | { results: QueryOutput[] };
    let broken = false;
    try {
      output = Array.isArray(payload)
        ? { results: await runBatch(client, payload, options) }
        : await runQuery(client, payload, options);
    } catch (err) {
      // A Postgres error leaves the connection usable (a batch has been rolled back); anything else
      // (a dropped connection, a failed ROLLBACK) does not.
      broken = !(err instanceof pg.DatabaseError);
      throw err;
    } finally {
      // As Neon's pool: a connection not back to idle (a stray BEGIN) is closed, not reused.
      client.release(broken || client.getTransactionStatus() !== "I");
    }
    const body = JSON.stringify(output);
    if (body.length > maxResponseBytes)
      throw new HttpError(507, `response is too large (max is ${maxResponseBytes} bytes)`);
    const extra: Record<string, string> = {};
    if (Array.isArray(payload)) {
      // Neon echoes the batch's transaction options.
      if (options.readOnly) extra["neon-batch-read-only"] = "true";
      if (options.deferrable) extra["neon-batch-deferrable"] = "true";
      const level = headerValue(req, "neon-batch-isolation-level");
      if (level) extra["neon-batch-isolation-level"] = level;
    }
    sendJson(res, 200, body, extra);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof pg.DatabaseError)
        return sendJson(res, 400, JSON.stringify(errorBody(err.message, err)));
      const status = err instanceof HttpError ? err.status : 500;
      sendJson(res, status, JSON.stringify(errorBody((err as Error).message ?? String(err))));
    });
  });
  // Keep connections from workerd and tests open between requests (Node's default is 5 s).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await pool.end();
    throw err;
  }
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("neon http: unexpected listen address");
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${address.port}/sql`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port: address.port,
    fetchEndpoint: () => url,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await pool.end();
      })();
      return closing;
    },
  };
}
