// Upstash-REST-compatible gateway so the unmodified @upstash/redis and @upstash/ratelimit clients run
// against a local Redis (real server, spawned redis-server, or the embedded engine) in dev and tests.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { accessSync, constants as fsConstants } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port";

// The embedded engine is part of this module's public surface (the package index re-exports it).
export { createEmbeddedBackend } from "./embedded-redis";

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
  let requests = 0;

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
    if (req.method === "GET" && path === "/__stats") {
      // Local-only: how many command requests (round trips) clients made, for tests that assert
      // a request path's number of Redis round trips. Not counted itself.
      sendJson(res, 200, { requests });
      return;
    }
    requests++;
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
 * redis-server is not on PATH, or DEVSTACK_NO_REDIS_SERVER=1 (to try the newcomer's setup on a machine
 * that has one), so callers can fall back to the embedded engine.
 */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServerHandle | null> {
  if (process.env.DEVSTACK_NO_REDIS_SERVER === "1") return null;
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
