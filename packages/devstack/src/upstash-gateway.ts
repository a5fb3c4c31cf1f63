// Upstash-REST-compatible gateway so the unmodified @upstash/redis and @upstash/ratelimit clients run
// against a local Redis (real server, spawned redis-server, or an in-process engine) in dev and tests.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { accessSync, constants as fsConstants } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port";

export type RedisArg = string | number;

export interface RedisBackend {
  exec(cmd: RedisArg[]): Promise<unknown>;
  multi(cmds: RedisArg[][]): Promise<Array<{ result?: unknown; error?: string }>>;
  close(): Promise<void>;
}

/** Thrown by a backend when Redis cannot be reached; the gateway answers 503 rather than a command error. */
export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError";
}

/** A Redis error reply (WRONGTYPE, syntax, ...): the command ran and Redis said no. */
export class RedisReplyError extends Error {
  override name = "ReplyError";
}

function isUnavailable(err: unknown): boolean {
  return (
    err instanceof BackendUnavailableError || (err instanceof Error && err.name === "BackendUnavailableError")
  );
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------------

export interface UpstashGatewayOptions {
  /** 0 or undefined: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  token: string;
  /** Owned by the caller: close() leaves it open. */
  backend: RedisBackend;
}

export interface UpstashGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

// Upstash itself caps request bodies around 1 MB (more on paid plans); a generous local cap still stops a
// runaway client from exhausting memory.
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_REMEMBERED_SCRIPTS = 1000;

// Upstash-only shebang flag that Redis 7 rejects with "Unexpected flag in script shebang".
const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);

/** Removes Upstash-only flags from a `#!lua flags=...` shebang, keeping the line so error line numbers match. */
export function stripUpstashScriptFlags(script: string): string {
  if (!script.startsWith("#!")) return script;
  const newline = script.indexOf("\n");
  const firstLine = newline === -1 ? script : script.slice(0, newline);
  const rest = newline === -1 ? "" : script.slice(newline);
  let changed = false;
  const tokens = firstLine.split(/[ \t]+/).flatMap((token) => {
    if (!token.startsWith("flags=")) return [token];
    const flags = token.slice("flags=".length).split(",");
    const kept = flags.filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag.trim()));
    if (kept.length === flags.length) return [token];
    changed = true;
    return kept.length > 0 ? [`flags=${kept.join(",")}`] : [];
  });
  return changed ? tokens.join(" ") + rest : script;
}

function sha1Hex(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

interface PreparedCommand {
  cmd: RedisArg[];
  /** Rewrites the reply, e.g. SCRIPT LOAD answering with the sha the client computed itself. */
  mapResult?: (result: unknown) => unknown;
}

/**
 * Rewritten scripts hash differently from what the client computed, so remember original-sha → rewritten
 * script and run EVALSHA of a known original sha as EVAL of the rewrite: ordering inside pipelines and
 * MULTI stays intact (no NOSCRIPT retry), and Redis still caches the compiled script by its own sha.
 */
class ScriptRewriter {
  private readonly rewritten = new Map<string, string>();

  prepare(cmd: RedisArg[]): PreparedCommand {
    const name = String(cmd[0]).toLowerCase();
    if ((name === "eval" || name === "eval_ro") && cmd.length >= 2) {
      const script = String(cmd[1]);
      const stripped = this.rewrite(script);
      return { cmd: stripped === script ? cmd : [cmd[0] as RedisArg, stripped, ...cmd.slice(2)] };
    }
    if ((name === "evalsha" || name === "evalsha_ro") && cmd.length >= 2) {
      const script = this.rewritten.get(String(cmd[1]).toLowerCase());
      if (script === undefined) return { cmd };
      return { cmd: [name === "evalsha" ? "eval" : "eval_ro", script, ...cmd.slice(2)] };
    }
    if (name === "script" && String(cmd[1]).toLowerCase() === "load" && cmd.length >= 3) {
      const script = String(cmd[2]);
      const stripped = this.rewrite(script);
      if (stripped === script) return { cmd };
      const originalSha = sha1Hex(script);
      return { cmd: [cmd[0] as RedisArg, cmd[1] as RedisArg, stripped], mapResult: () => originalSha };
    }
    return { cmd };
  }

  private rewrite(script: string): string {
    const stripped = stripUpstashScriptFlags(script);
    if (stripped !== script) {
      const sha = sha1Hex(script);
      if (!this.rewritten.has(sha)) {
        if (this.rewritten.size >= MAX_REMEMBERED_SCRIPTS) {
          const oldest = this.rewritten.keys().next().value;
          if (oldest !== undefined) this.rewritten.delete(oldest);
        }
        this.rewritten.set(sha, stripped);
      }
    }
    return stripped;
  }
}

function isOkReply(value: Buffer): boolean {
  return value.length === 2 && value[0] === 0x4f && value[1] === 0x4b;
}

/**
 * Shapes a reply for JSON. With base64 on, the client base64-decodes every string except a top-level
 * "OK"; inside the first array level it decodes unconditionally, so "OK" is only sent raw at depth 0.
 */
function encodeReply(value: unknown, base64: boolean, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return Number(value);
  if (Buffer.isBuffer(value)) {
    if (!base64) return value.toString("utf8");
    return depth === 0 && isOkReply(value) ? "OK" : value.toString("base64");
  }
  if (typeof value === "string") {
    if (!base64 || (depth === 0 && value === "OK")) return value;
    return Buffer.from(value, "utf8").toString("base64");
  }
  if (Array.isArray(value)) return value.map((item) => encodeReply(item, base64, depth + 1));
  if (value instanceof Error) return encodeReply(value.message, base64, depth);
  return null;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseCommand(raw: unknown): RedisArg[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new RequestError(400, "ERR command must be a non-empty array");
  return raw.map((arg): RedisArg => {
    if (typeof arg === "string" || typeof arg === "number") return arg;
    if (typeof arg === "boolean") return String(arg);
    throw new RequestError(400, "ERR command arguments must be strings or numbers");
  });
}

function parseCommandList(raw: unknown): RedisArg[][] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new RequestError(400, "ERR body must be a non-empty array of commands");
  }
  return raw.map(parseCommand);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, "ERR request body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

export async function startUpstashGateway(opts: UpstashGatewayOptions): Promise<UpstashGateway> {
  const host = opts.host ?? "127.0.0.1";
  const { backend } = opts;
  // Hashing both sides gives equal-length buffers, so timingSafeEqual also hides the token length.
  const expectedTokenHash = createHash("sha256").update(opts.token).digest();
  const scripts = new ScriptRewriter();

  const authorized = (header: string | undefined): boolean => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    const presented = createHash("sha256")
      .update(match?.[1] ?? "")
      .digest();
    return timingSafeEqual(presented, expectedTokenHash) && match !== null;
  };

  const runOne = async (cmd: RedisArg[], base64: boolean): Promise<{ result?: unknown; error?: string }> => {
    const prepared = scripts.prepare(cmd);
    try {
      const result = await backend.exec(prepared.cmd);
      return { result: encodeReply(prepared.mapResult ? prepared.mapResult(result) : result, base64) };
    } catch (err) {
      if (isUnavailable(err)) throw err;
      return { error: errorMessage(err) };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0]?.replace(/\/+$/, "") || "/";
    if (req.method === "GET" && (path === "/" || path === "/health")) {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    if (req.method !== "POST") {
      sendJson(res, 405, { error: "Method not allowed" });
      return;
    }
    if (!authorized(req.headers.authorization)) {
      req.resume();
      sendJson(res, 401, { error: "Unauthorized" });
      return;
    }
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
      req.resume();
      sendJson(res, 404, { error: `ERR unknown endpoint ${path}` });
      return;
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof RequestError) throw err;
      throw new RequestError(400, "ERR failed to parse request body as JSON");
    }

    try {
      if (path === "/") {
        const reply = await runOne(parseCommand(body), base64);
        sendJson(res, reply.error === undefined ? 200 : 400, reply);
        return;
      }
      const cmds = parseCommandList(body);
      if (path === "/pipeline") {
        // Dispatched together: one backend connection keeps them in order and writes them in one burst.
        sendJson(res, 200, await Promise.all(cmds.map((cmd) => runOne(cmd, base64))));
        return;
      }
      const prepared = cmds.map((cmd) => scripts.prepare(cmd));
      let replies: Array<{ result?: unknown; error?: string }>;
      try {
        replies = await backend.multi(prepared.map((p) => p.cmd));
      } catch (err) {
        if (isUnavailable(err)) throw err;
        sendJson(res, 400, { error: errorMessage(err) });
        return;
      }
      sendJson(
        res,
        200,
        replies.map((reply, i) => {
          if (reply.error !== undefined) return { error: reply.error };
          const map = prepared[i]?.mapResult;
          return { result: encodeReply(map ? map(reply.result) : reply.result, base64) };
        }),
      );
    } catch (err) {
      if (isUnavailable(err)) {
        sendJson(res, 503, { error: `ERR redis unavailable: ${errorMessage(err)}` });
        return;
      }
      throw err;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof RequestError ? err.status : 500;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, status, { error: errorMessage(err) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("gateway: unexpected listen address");
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The client keeps connections alive; without this close() waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// ioredis backend
// ---------------------------------------------------------------------------------------------------

export interface RedisBackendOptions {
  /** TCP connect timeout, ms. Default 500. */
  connectTimeout?: number;
  /** A command with no reply after this many ms fails (covers a hung or paused server). Default 2000. */
  commandTimeout?: number;
}

/**
 * ioredis rewrites some replies by lowercase command name (HGETALL becomes an object); the gateway must
 * relay Redis's own reply shape, and an upper-case name skips those transformers (Redis ignores case).
 */
function commandName(name: RedisArg | undefined): string {
  return String(name).toUpperCase();
}

/**
 * Backend over one ioredis connection (`redis://host:port/db`). Nothing is queued while Redis is down:
 * callers get BackendUnavailableError at once and the connection is retried in the background.
 */
export function createRedisBackend(url: string, options: RedisBackendOptions = {}): RedisBackend {
  const connectTimeout = options.connectTimeout ?? 500;
  let lastError = "not connected";
  const client = new Redis(url, {
    enableOfflineQueue: false,
    connectTimeout,
    commandTimeout: options.commandTimeout ?? 2000,
    // In-flight commands fail when the connection drops instead of being replayed later.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  // Without a listener ioredis logs every failed reconnect; the message is surfaced in errors instead.
  client.on("error", (err: Error) => {
    lastError = err.message;
  });

  let readyWait: Promise<void> | null = null;
  const ensureReady = (): Promise<void> => {
    if (client.status === "ready") return Promise.resolve();
    // Only the first connect (or an explicit reconnect in progress) is worth waiting for; while the
    // client sits between retries, fail fast.
    if (client.status !== "connecting" && client.status !== "connect" && client.status !== "wait") {
      return Promise.reject(new BackendUnavailableError(`${lastError} (connection ${client.status})`));
    }
    readyWait ??= new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off("ready", onReady);
        client.off("close", onClose);
        readyWait = null;
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onClose = () => done(new BackendUnavailableError(lastError));
      const timer = setTimeout(() => done(new BackendUnavailableError("connect timeout")), connectTimeout);
      client.once("ready", onReady);
      client.once("close", onClose);
    });
    return readyWait;
  };

  const wrap = (err: unknown): Error => {
    if (err instanceof Error && err.name === "ReplyError") return err;
    return new BackendUnavailableError(errorMessage(err));
  };

  return {
    async exec(cmd) {
      await ensureReady();
      const [name, ...args] = cmd;
      try {
        return await client.callBuffer(commandName(name), ...args);
      } catch (err) {
        throw wrap(err);
      }
    },
    async multi(cmds) {
      await ensureReady();
      const tx = client.multi();
      for (const [name, ...args] of cmds) tx.callBuffer(commandName(name), ...args);
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await tx.exec();
      } catch (err) {
        throw wrap(err);
      }
      // exec() resolves null when a WATCHed key changed; nothing here WATCHes, but stay total.
      if (replies === null) throw new RedisReplyError("EXECABORT transaction aborted");
      return replies.map(([err, result]) => (err ? { error: err.message } : { result }));
    },
    async close() {
      try {
        if (client.status === "ready") await client.quit();
      } catch {
        // Already gone; disconnect below still stops the reconnect loop.
      } finally {
        client.disconnect();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// In-process engine
// ---------------------------------------------------------------------------------------------------

interface KindData {
  string: string;
  hash: Map<string, string>;
  set: Set<string>;
  zset: Map<string, number>;
  list: string[];
}
type Kind = keyof KindData;
type StoredValue = { [K in Kind]: { kind: K; data: KindData[K] } }[Kind];

interface Entry {
  value: StoredValue;
  /** Epoch ms; null means no expiry. */
  expiresAt: number | null;
}

type Handler = (args: string[]) => unknown;

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER = "ERR value is not an integer or out of range";
const NOT_FLOAT = "ERR value is not a valid float";
const SYNTAX = "ERR syntax error";
const NO_SCRIPTS = "ERR scripts need a real redis-server (the in-memory engine has no Lua)";
// Minimum argument count after the command name; anything unlisted needs one (a key).
const MIN_ARGS: Record<string, number> = {
  ping: 0,
  dbsize: 0,
  flushdb: 0,
  flushall: 0,
  eval: 0,
  eval_ro: 0,
  evalsha: 0,
  evalsha_ro: 0,
  script: 0,
  fcall: 0,
  set: 2,
  setnx: 2,
  setex: 3,
  psetex: 3,
  append: 2,
  incrby: 2,
  decrby: 2,
  incrbyfloat: 2,
  expire: 2,
  pexpire: 2,
  expireat: 2,
  pexpireat: 2,
  mset: 2,
  hset: 3,
  hsetnx: 3,
  hget: 2,
  hmget: 2,
  hexists: 2,
  hdel: 2,
  hincrby: 3,
  sadd: 2,
  srem: 2,
  sismember: 2,
  lpush: 2,
  rpush: 2,
  lrange: 3,
  zadd: 3,
  zincrby: 3,
  zscore: 2,
  zrem: 2,
  zrange: 3,
  zcount: 3,
  zremrangebyscore: 3,
};
// Keys nobody reads again would otherwise pile up; a full sweep this often keeps the cost amortised.
const SWEEP_EVERY_OPS = 1000;

function parseInteger(text: string | undefined): number {
  if (text === undefined || !/^-?\d+$/.test(text)) throw new RedisReplyError(NOT_INTEGER);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RedisReplyError(NOT_INTEGER);
  return n;
}

function parseFloatArg(text: string | undefined): number {
  if (text === undefined) throw new RedisReplyError(NOT_FLOAT);
  const lower = text.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  const n = Number(text);
  if (text.trim() === "" || Number.isNaN(n)) throw new RedisReplyError(NOT_FLOAT);
  return n;
}

function formatFloat(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  return String(n);
}

interface ScoreBound {
  value: number;
  exclusive: boolean;
}

function parseScoreBound(text: string | undefined): ScoreBound {
  if (text === undefined) throw new RedisReplyError(SYNTAX);
  const exclusive = text.startsWith("(");
  const raw = exclusive ? text.slice(1) : text;
  try {
    return { value: parseFloatArg(raw), exclusive };
  } catch {
    throw new RedisReplyError("ERR min or max is not a float");
  }
}

function inRange(score: number, min: ScoreBound, max: ScoreBound): boolean {
  const aboveMin = min.exclusive ? score > min.value : score >= min.value;
  const belowMax = max.exclusive ? score < max.value : score <= max.value;
  return aboveMin && belowMax;
}

/** Redis glob (`*`, `?`, `[abc]`, `[^a]`, `\x`) as a RegExp. */
function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "*") source += "[\\s\\S]*";
    else if (ch === "?") source += "[\\s\\S]";
    else if (ch === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string);
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) {
        source += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      source += `[${negate ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function normaliseRange(start: number, stop: number, length: number): [number, number] | null {
  let from = start < 0 ? Math.max(length + start, 0) : start;
  const to = stop < 0 ? length + stop : Math.min(stop, length - 1);
  if (from > to || from >= length) return null;
  from = Math.max(from, 0);
  return [from, to];
}

/**
 * In-process Redis subset for a first run with no Redis at all. Single-threaded JS makes every command,
 * and a whole MULTI, atomic. No Lua: EVAL/EVALSHA fail, so @upstash/ratelimit needs a real redis-server.
 */
export function createMemoryBackend(): RedisBackend {
  const store = new Map<string, Entry>();
  let opsSinceSweep = 0;

  const isExpired = (entry: Entry, now: number) => entry.expiresAt !== null && entry.expiresAt <= now;

  const lookup = (key: string): Entry | undefined => {
    const entry = store.get(key);
    if (entry && isExpired(entry, Date.now())) {
      store.delete(key);
      return undefined;
    }
    return entry;
  };

  const sweep = () => {
    const now = Date.now();
    for (const [key, entry] of store) if (isExpired(entry, now)) store.delete(key);
  };

  function typed<K extends Kind>(key: string, kind: K): KindData[K] | undefined {
    const entry = lookup(key);
    if (!entry) return undefined;
    if (entry.value.kind !== kind) throw new RedisReplyError(WRONGTYPE);
    return entry.value.data as KindData[K];
  }

  function create<K extends Kind>(key: string, kind: K, make: () => KindData[K]): KindData[K] {
    const existing = typed(key, kind);
    if (existing !== undefined) return existing;
    const data = make();
    store.set(key, { value: { kind, data } as StoredValue, expiresAt: null });
    return data;
  }

  /** Drops containers that became empty, as Redis does. */
  const dropIfEmpty = (key: string, size: number) => {
    if (size === 0) store.delete(key);
  };

  const getString = (key: string): string | null => typed(key, "string") ?? null;

  const setString = (key: string, value: string, expiresAt: number | null) => {
    store.set(key, { value: { kind: "string", data: value }, expiresAt });
  };

  const incrBy = (key: string, delta: number): number => {
    const entry = lookup(key);
    if (entry && entry.value.kind !== "string") throw new RedisReplyError(WRONGTYPE);
    const current = entry ? parseInteger(entry.value.data as string) : 0;
    const next = current + delta;
    if (!Number.isSafeInteger(next)) throw new RedisReplyError("ERR increment or decrement would overflow");
    setString(key, String(next), entry?.expiresAt ?? null);
    return next;
  };

  const expireAt = (args: string[], toMs: (n: number) => number): number => {
    const [key, amount, ...flags] = args;
    if (key === undefined || amount === undefined) throw new RedisReplyError(SYNTAX);
    const when = toMs(parseInteger(amount));
    const entry = lookup(key);
    if (!entry) return 0;
    const flag = flags[0]?.toUpperCase();
    const current = entry.expiresAt ?? Number.POSITIVE_INFINITY;
    if (flag === "NX" && entry.expiresAt !== null) return 0;
    if (flag === "XX" && entry.expiresAt === null) return 0;
    if (flag === "GT" && !(when > current)) return 0;
    if (flag === "LT" && !(when < current)) return 0;
    if (when <= Date.now()) store.delete(key);
    else entry.expiresAt = when;
    return 1;
  };

  const ttl = (key: string, unitMs: number): number => {
    const entry = lookup(key);
    if (!entry) return -2;
    if (entry.expiresAt === null) return -1;
    return Math.max(0, Math.round((entry.expiresAt - Date.now()) / unitMs));
  };

  const sortedMembers = (zset: Map<string, number>): Array<[string, number]> =>
    [...zset].sort(([ma, sa], [mb, sb]) => (sa !== sb ? sa - sb : ma < mb ? -1 : ma > mb ? 1 : 0));

  const noScripts: Handler = () => {
    throw new RedisReplyError(NO_SCRIPTS);
  };

  const handlers: Record<string, Handler> = {
    ping: ([message]) => message ?? "PONG",
    echo: ([message]) => message ?? "",
    get: ([key]) => getString(key as string),
    set: ([key, value, ...rest]) => {
      if (key === undefined || value === undefined) throw new RedisReplyError(SYNTAX);
      let condition: "NX" | "XX" | null = null;
      let returnOld = false;
      let keepTtl = false;
      let expiresAt: number | null = null;
      for (let i = 0; i < rest.length; i++) {
        const option = (rest[i] as string).toUpperCase();
        if (option === "NX" || option === "XX") condition = option;
        else if (option === "GET") returnOld = true;
        else if (option === "KEEPTTL") keepTtl = true;
        else if (option === "EX" || option === "PX" || option === "EXAT" || option === "PXAT") {
          const n = parseInteger(rest[++i]);
          if (n <= 0) throw new RedisReplyError("ERR invalid expire time in 'set' command");
          if (option === "EX") expiresAt = Date.now() + n * 1000;
          else if (option === "PX") expiresAt = Date.now() + n;
          else if (option === "EXAT") expiresAt = n * 1000;
          else expiresAt = n;
        } else throw new RedisReplyError(SYNTAX);
      }
      const existing = lookup(key);
      const old = returnOld ? getString(key) : null;
      const skip = (condition === "NX" && existing) || (condition === "XX" && !existing);
      if (!skip) setString(key, value, keepTtl ? (existing?.expiresAt ?? null) : expiresAt);
      if (returnOld) return old;
      return skip ? null : "OK";
    },
    setex: ([key, seconds, value]) =>
      handlers.set?.([key as string, value as string, "EX", seconds as string]),
    psetex: ([key, ms, value]) => handlers.set?.([key as string, value as string, "PX", ms as string]),
    setnx: ([key, value]) => (handlers.set?.([key as string, value as string, "NX"]) === "OK" ? 1 : 0),
    getdel: ([key]) => {
      const value = getString(key as string);
      store.delete(key as string);
      return value;
    },
    append: ([key, value]) => {
      const entry = lookup(key as string);
      const next = (getString(key as string) ?? "") + (value ?? "");
      setString(key as string, next, entry?.expiresAt ?? null);
      return Buffer.byteLength(next);
    },
    strlen: ([key]) => Buffer.byteLength(getString(key as string) ?? ""),
    del: (keys) => keys.filter((key) => lookup(key) !== undefined && store.delete(key)).length,
    unlink: (keys) => keys.filter((key) => lookup(key) !== undefined && store.delete(key)).length,
    exists: (keys) => keys.filter((key) => lookup(key) !== undefined).length,
    type: ([key]) => lookup(key as string)?.value.kind ?? "none",
    incr: ([key]) => incrBy(key as string, 1),
    decr: ([key]) => incrBy(key as string, -1),
    incrby: ([key, delta]) => incrBy(key as string, parseInteger(delta)),
    decrby: ([key, delta]) => incrBy(key as string, -parseInteger(delta)),
    incrbyfloat: ([key, delta]) => {
      const entry = lookup(key as string);
      const current = parseFloatArg(getString(key as string) ?? "0");
      const next = current + parseFloatArg(delta);
      if (!Number.isFinite(next)) throw new RedisReplyError("ERR increment would produce NaN or Infinity");
      setString(key as string, formatFloat(next), entry?.expiresAt ?? null);
      return formatFloat(next);
    },
    expire: (args) => expireAt(args, (n) => Date.now() + n * 1000),
    pexpire: (args) => expireAt(args, (n) => Date.now() + n),
    expireat: (args) => expireAt(args, (n) => n * 1000),
    pexpireat: (args) => expireAt(args, (n) => n),
    persist: ([key]) => {
      const entry = lookup(key as string);
      if (!entry || entry.expiresAt === null) return 0;
      entry.expiresAt = null;
      return 1;
    },
    ttl: ([key]) => ttl(key as string, 1000),
    pttl: ([key]) => ttl(key as string, 1),
    mget: (keys) => keys.map((key) => (lookup(key)?.value.kind === "string" ? getString(key) : null)),
    mset: (args) => {
      if (args.length === 0 || args.length % 2 !== 0) throw new RedisReplyError(SYNTAX);
      for (let i = 0; i < args.length; i += 2) setString(args[i] as string, args[i + 1] as string, null);
      return "OK";
    },
    hset: ([key, ...pairs]) => {
      if (pairs.length === 0 || pairs.length % 2 !== 0) throw new RedisReplyError(SYNTAX);
      const hash = create(key as string, "hash", () => new Map());
      let added = 0;
      for (let i = 0; i < pairs.length; i += 2) {
        if (!hash.has(pairs[i] as string)) added++;
        hash.set(pairs[i] as string, pairs[i + 1] as string);
      }
      return added;
    },
    hsetnx: ([key, field, value]) => {
      const hash = create(key as string, "hash", () => new Map());
      if (hash.has(field as string)) return 0;
      hash.set(field as string, value as string);
      return 1;
    },
    hget: ([key, field]) => typed(key as string, "hash")?.get(field as string) ?? null,
    hmget: ([key, ...fields]) => {
      const hash = typed(key as string, "hash");
      return fields.map((field) => hash?.get(field) ?? null);
    },
    hgetall: ([key]) => [...(typed(key as string, "hash") ?? [])].flat(),
    hkeys: ([key]) => [...(typed(key as string, "hash")?.keys() ?? [])],
    hvals: ([key]) => [...(typed(key as string, "hash")?.values() ?? [])],
    hlen: ([key]) => typed(key as string, "hash")?.size ?? 0,
    hexists: ([key, field]) => (typed(key as string, "hash")?.has(field as string) ? 1 : 0),
    hdel: ([key, ...fields]) => {
      const hash = typed(key as string, "hash");
      if (!hash) return 0;
      const removed = fields.filter((field) => hash.delete(field)).length;
      dropIfEmpty(key as string, hash.size);
      return removed;
    },
    hincrby: ([key, field, delta]) => {
      const hash = create(key as string, "hash", () => new Map());
      const current = hash.get(field as string);
      let base: number;
      try {
        base = current === undefined ? 0 : parseInteger(current);
      } catch {
        throw new RedisReplyError("ERR hash value is not an integer");
      }
      const next = base + parseInteger(delta);
      hash.set(field as string, String(next));
      return next;
    },
    sadd: ([key, ...members]) => {
      const set = create(key as string, "set", () => new Set());
      let added = 0;
      for (const member of members) {
        if (!set.has(member)) {
          set.add(member);
          added++;
        }
      }
      return added;
    },
    srem: ([key, ...members]) => {
      const set = typed(key as string, "set");
      if (!set) return 0;
      const removed = members.filter((member) => set.delete(member)).length;
      dropIfEmpty(key as string, set.size);
      return removed;
    },
    sismember: ([key, member]) => (typed(key as string, "set")?.has(member as string) ? 1 : 0),
    smembers: ([key]) => [...(typed(key as string, "set") ?? [])],
    scard: ([key]) => typed(key as string, "set")?.size ?? 0,
    lpush: ([key, ...values]) => {
      const list = create(key as string, "list", () => []);
      list.unshift(...values.reverse());
      return list.length;
    },
    rpush: ([key, ...values]) => {
      const list = create(key as string, "list", () => []);
      list.push(...values);
      return list.length;
    },
    lpop: ([key]) => {
      const list = typed(key as string, "list");
      const value = list?.shift() ?? null;
      if (list) dropIfEmpty(key as string, list.length);
      return value;
    },
    rpop: ([key]) => {
      const list = typed(key as string, "list");
      const value = list?.pop() ?? null;
      if (list) dropIfEmpty(key as string, list.length);
      return value;
    },
    llen: ([key]) => typed(key as string, "list")?.length ?? 0,
    lrange: ([key, start, stop]) => {
      const list = typed(key as string, "list") ?? [];
      const range = normaliseRange(parseInteger(start), parseInteger(stop), list.length);
      return range ? list.slice(range[0], range[1] + 1) : [];
    },
    zadd: ([key, ...rest]) => {
      const flags = new Set<string>();
      let i = 0;
      while (
        i < rest.length &&
        ["NX", "XX", "GT", "LT", "CH", "INCR"].includes((rest[i] as string).toUpperCase())
      ) {
        flags.add((rest[i] as string).toUpperCase());
        i++;
      }
      const pairs = rest.slice(i);
      if (pairs.length === 0 || pairs.length % 2 !== 0) throw new RedisReplyError(SYNTAX);
      if (flags.has("INCR") && pairs.length !== 2) {
        throw new RedisReplyError("ERR INCR option supports a single increment-element pair");
      }
      const parsed: Array<{ score: number; member: string }> = [];
      for (let p = 0; p < pairs.length; p += 2) {
        parsed.push({ score: parseFloatArg(pairs[p]), member: pairs[p + 1] as string });
      }
      const zset = create(key as string, "zset", () => new Map());
      let added = 0;
      let changed = 0;
      let incrResult: string | null = null;
      for (const { score, member } of parsed) {
        const current = zset.get(member);
        if (flags.has("NX") && current !== undefined) continue;
        if (flags.has("XX") && current === undefined) continue;
        const next = flags.has("INCR") ? (current ?? 0) + score : score;
        if (current !== undefined && flags.has("GT") && !(next > current)) continue;
        if (current !== undefined && flags.has("LT") && !(next < current)) continue;
        if (current === undefined) added++;
        else if (current !== next) changed++;
        zset.set(member, next);
        incrResult = formatFloat(next);
      }
      dropIfEmpty(key as string, zset.size);
      if (flags.has("INCR")) return incrResult;
      return flags.has("CH") ? added + changed : added;
    },
    zincrby: ([key, delta, member]) =>
      handlers.zadd?.([key as string, "INCR", delta as string, member as string]),
    zscore: ([key, member]) => {
      const score = typed(key as string, "zset")?.get(member as string);
      return score === undefined ? null : formatFloat(score);
    },
    zrem: ([key, ...members]) => {
      const zset = typed(key as string, "zset");
      if (!zset) return 0;
      const removed = members.filter((member) => zset.delete(member)).length;
      dropIfEmpty(key as string, zset.size);
      return removed;
    },
    zcard: ([key]) => typed(key as string, "zset")?.size ?? 0,
    zrange: ([key, start, stop, ...options]) => {
      let withScores = false;
      let reverse = false;
      for (const option of options) {
        const upper = option.toUpperCase();
        if (upper === "WITHSCORES") withScores = true;
        else if (upper === "REV") reverse = true;
        else throw new RedisReplyError(`ERR ZRANGE ${upper} is not supported by the in-memory engine`);
      }
      const members = sortedMembers(typed(key as string, "zset") ?? new Map());
      if (reverse) members.reverse();
      const range = normaliseRange(parseInteger(start), parseInteger(stop), members.length);
      if (!range) return [];
      return members
        .slice(range[0], range[1] + 1)
        .flatMap(([member, score]) => (withScores ? [member, formatFloat(score)] : [member]));
    },
    zcount: ([key, min, max]) => {
      const lo = parseScoreBound(min);
      const hi = parseScoreBound(max);
      let count = 0;
      for (const score of typed(key as string, "zset")?.values() ?? []) if (inRange(score, lo, hi)) count++;
      return count;
    },
    zremrangebyscore: ([key, min, max]) => {
      const lo = parseScoreBound(min);
      const hi = parseScoreBound(max);
      const zset = typed(key as string, "zset");
      if (!zset) return 0;
      let removed = 0;
      for (const [member, score] of zset) {
        if (inRange(score, lo, hi)) {
          zset.delete(member);
          removed++;
        }
      }
      dropIfEmpty(key as string, zset.size);
      return removed;
    },
    keys: ([pattern]) => {
      const re = globToRegExp(pattern ?? "*");
      return [...store.keys()].filter((key) => lookup(key) !== undefined && re.test(key));
    },
    scan: ([cursor, ...options]) => {
      let pattern = "*";
      let count = 10;
      let type: string | null = null;
      for (let i = 0; i < options.length; i += 2) {
        const option = (options[i] as string).toUpperCase();
        const value = options[i + 1];
        if (value === undefined) throw new RedisReplyError(SYNTAX);
        if (option === "MATCH") pattern = value;
        else if (option === "COUNT") count = Math.max(1, parseInteger(value));
        else if (option === "TYPE") type = value.toLowerCase();
        else throw new RedisReplyError(SYNTAX);
      }
      // The cursor is an offset into the sorted key list: keys added mid-scan may be missed, as Redis allows.
      const keys = [...store.keys()].filter((key) => lookup(key) !== undefined).sort();
      const start = parseInteger(cursor);
      const page = keys.slice(start, start + count);
      const next = start + count >= keys.length ? 0 : start + count;
      const re = globToRegExp(pattern);
      const matched = page.filter(
        (key) => re.test(key) && (type === null || lookup(key)?.value.kind === type),
      );
      return [String(next), matched];
    },
    dbsize: () => [...store.keys()].filter((key) => lookup(key) !== undefined).length,
    flushdb: () => {
      store.clear();
      return "OK";
    },
    flushall: () => {
      store.clear();
      return "OK";
    },
    eval: noScripts,
    eval_ro: noScripts,
    evalsha: noScripts,
    evalsha_ro: noScripts,
    script: noScripts,
    fcall: noScripts,
  };

  const run = (cmd: RedisArg[]): unknown => {
    if (++opsSinceSweep >= SWEEP_EVERY_OPS) {
      opsSinceSweep = 0;
      sweep();
    }
    const name = String(cmd[0] ?? "").toLowerCase();
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (!handler) throw new RedisReplyError(`ERR unknown command '${name}' (not in the in-memory engine)`);
    const args = cmd.slice(1).map(String);
    // Handlers index their required arguments directly; checking the minimum here keeps them honest.
    if (args.length < (MIN_ARGS[name] ?? 1)) {
      throw new RedisReplyError(`ERR wrong number of arguments for '${name}' command`);
    }
    return handler(args);
  };

  return {
    async exec(cmd) {
      return run(cmd);
    },
    async multi(cmds) {
      return cmds.map((cmd) => {
        try {
          return { result: run(cmd) };
        } catch (err) {
          return { error: errorMessage(err) };
        }
      });
    },
    async close() {
      store.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// redis-server child process
// ---------------------------------------------------------------------------------------------------

export interface RedisServerHandle {
  url: string;
  close(): Promise<void>;
}

function findOnPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function pingOnce(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Spawns a throwaway redis-server (no RDB/AOF, loopback only) and waits for PING. Resolves null when
 * redis-server is not on PATH so callers can fall back to the in-memory engine.
 */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServerHandle | null> {
  const binary = findOnPath("redis-server");
  if (binary === null) return null;
  // A random port can be taken between probing and binding; retry a few times in that case.
  const attempts = opts.port ? 1 : 3;
  let lastFailure = "";
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = opts.port || (await freePort());
    const child = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        tmpdir(),
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.on("error", (err) => {
      output += `\n${err.message}`;
    });
    // A test runner or dev CLI that exits without close() must not leave redis-server behind.
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);

    const deadline = Date.now() + 5000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (await pingOnce(port, 500)) {
        up = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (up) {
      return {
        url: `redis://127.0.0.1:${port}`,
        close: async () => {
          process.off("exit", killOnExit);
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGTERM");
          if (!(await waitForExit(child, 3000))) {
            child.kill("SIGKILL");
            await waitForExit(child, 1000);
          }
        },
      };
    }
    process.off("exit", killOnExit);
    child.kill("SIGKILL");
    await waitForExit(child, 1000);
    lastFailure = output.trim();
  }
  throw new Error(`redis-server did not start: ${lastFailure || "no output"}`);
}
