// In-process Redis for the local stack when no server is configured: ioredis-mock's maintained engine
// (Lua scripts via fengari), adapted to the commands the Upstash gateway relays.
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import RedisMock from "ioredis-mock";
import type { RedisArg, RedisBackend } from "./upstash-gateway";

type CommandFn = (...args: Array<string | number>) => Promise<unknown>;

interface CommandResult {
  result?: unknown;
  error?: string;
}

// ioredis-mock matches option keywords in upper case only, while @upstash/redis sends them in lower
// case (`set k v nx ex 60`): left alone, NX and EX would be silently ignored. Redis itself ignores case,
// so upper-casing keywords in their option positions is always faithful. The number is the index of
// the first option argument after the command name.
const OPTIONS_FROM: Record<string, number> = {
  set: 2,
  getex: 1,
  expire: 2,
  pexpire: 2,
  expireat: 2,
  pexpireat: 2,
  zrange: 3,
  zrevrange: 3,
  zrangebyscore: 3,
  zrevrangebyscore: 3,
  zrangebylex: 3,
  zrevrangebylex: 3,
  scan: 1,
  hscan: 2,
  sscan: 2,
  zscan: 2,
};
/** Keywords and how many arguments follow each (which are values and keep their case). */
const KEYWORD_VALUES: Record<string, number> = {
  NX: 0,
  XX: 0,
  GT: 0,
  LT: 0,
  GET: 0,
  KEEPTTL: 0,
  PERSIST: 0,
  WITHSCORES: 0,
  REV: 0,
  BYSCORE: 0,
  BYLEX: 0,
  EX: 1,
  PX: 1,
  EXAT: 1,
  PXAT: 1,
  MATCH: 1,
  COUNT: 1,
  TYPE: 1,
  LIMIT: 2,
};
// Redis's command names as the mock knows them (it exposes each as a method, among EventEmitter methods
// that must never be reachable from a request). Connection and transaction state is the gateway's job.
const REDIS_COMMANDS = new Set(
  (createRequire(import.meta.url)("ioredis-mock/data/command-list.json") as { list: string[] }).list,
);
const NOT_RELAYED = new Set([
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "quit",
  "select",
  "monitor",
  // Subscriber mode would refuse every later command on the shared instance.
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
]);
const SCRIPT_COMMANDS = new Set(["eval", "eval_ro", "evalsha", "evalsha_ro", "script"]);

const ZADD_FLAGS = new Set(["NX", "XX", "GT", "LT", "CH", "INCR"]);

/** Upper-cases option keywords (never keys, values or patterns), as a real Redis would read them. */
export function normaliseKeywords(name: string, args: string[]): string[] {
  if (name === "zadd") {
    // ZADD key [flags...] score member ...: flags come first, then data that must keep its case.
    const out = [...args];
    for (let i = 1; i < out.length && ZADD_FLAGS.has(String(out[i]).toUpperCase()); i++) {
      out[i] = String(out[i]).toUpperCase();
    }
    return out;
  }
  const from = OPTIONS_FROM[name];
  if (from === undefined) return args;
  const out = [...args];
  for (let i = from; i < out.length; i++) {
    const upper = String(out[i]).toUpperCase();
    const values = KEYWORD_VALUES[upper];
    if (values === undefined) continue;
    out[i] = upper;
    i += values;
  }
  return out;
}

/**
 * Redis reads a first line starting with `#!` as the script's shebang (engine and flags), never as
 * Lua; fengari would fail on it. It becomes an empty line so error line numbers still match. Flags
 * such as no-writes are not enforced here (they concern replicas and clusters).
 */
export function withoutShebang(script: string): string {
  if (!script.startsWith("#!")) return script;
  const newline = script.indexOf("\n");
  return newline === -1 ? "" : script.slice(newline);
}

/**
 * Wraps every script so fengari behaves as Redis's Lua, on the script's first line so its line numbers
 * stay Redis's. The mock hands redis.call() replies to Lua as proxies of JavaScript arrays (shifted by one
 * at the top level, 0-based below it) with JS null where Redis gives false (HMGET of an absent field: the
 * token-bucket script tests `bucket[1] == false`), and pcall errors as {"error", message} where Redis
 * gives {err = message}; replies become the plain tables Redis gives. The mock puts JS null at index 0 of
 * every top-level array reply, which is how null is recognised. On the way out, the mock reads a table by
 * walking its keys and loses one built by assignment (`t[1] = x`), so the script's reply is rebuilt with
 * a table constructor, stopping at the first nil and honouring {err = ...} and {ok = ...} as Redis does.
 */
const LUA_PRELUDE = [
  "local __embedded_reply",
  "do",
  "local call, pcall = redis.call, redis.pcall",
  "local function plain(v, null, base)",
  "if v == null then return false end",
  'if type(v) ~= "userdata" then return v end',
  "local t = {}",
  "for i = 1, #v do t[i] = plain(v[i - 1 + base], null, 0) end",
  "return t",
  "end",
  "local function reply(r)",
  'if type(r) ~= "userdata" then return r end',
  "local first = r[0]",
  'if first == "error" then return {err = (string.gsub(tostring(r[1]), "^%a*Error: ", ""))} end',
  'if type(first) ~= "userdata" then return r end',
  "return plain(r, first, 1)",
  "end",
  "redis.call = function(...) return reply(call(...)) end",
  "redis.pcall = function(...) return reply(pcall(...)) end",
  "local function array(v)",
  'if type(v) ~= "table" then return v end',
  "local out, n = {}, 0",
  "while v[n + 1] ~= nil do n = n + 1 out[n] = array(v[n]) end",
  "return {table.unpack(out, 1, n)}",
  "end",
  "__embedded_reply = function(v)",
  'if type(v) == "table" and v.err ~= nil then error(v.err, 0) end',
  'if type(v) == "table" and v.ok ~= nil then return v.ok end',
  "return array(v)",
  "end",
  "end",
  "return __embedded_reply((function()",
  "",
].join(" ");
const LUA_EPILOGUE = "\nend)())";

/** The Lua fengari runs for a script as a client sent it. */
export function embeddedLua(script: string): string {
  return LUA_PRELUDE + withoutShebang(script) + LUA_EPILOGUE;
}

/** Redis's Lua-to-RESP conversion: numbers become integers (truncated), false nil, true 1. */
function luaReply(value: unknown): unknown {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) return 1;
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (Array.isArray(value)) return value.map(luaReply);
  return value;
}

/** The shape a real Redis would send: HGETALL is a flat field/value array, not ioredis's object. */
function redisReply(name: string, value: unknown): unknown {
  if (name === "hgetall" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>).flat();
  }
  return value;
}

// Redis deletes expired keys in the background too; the mock only when a key is read again, so nonces,
// dedupe markers and rate-limit windows nobody reads again would pile up in a long `pnpm dev`.
const SWEEP_EVERY_COMMANDS = 100;
const KEYS_CHECKED_PER_SWEEP = 200;

/** The two ioredis-mock internals the sweep needs; checked at startup, absent ones disable the sweep. */
interface MockInternals {
  context?: { modifiedKeyEvents?: { on(event: "modified", listener: (key: string) => void): unknown } };
  data?: { has(key: string): boolean };
}

/**
 * Remembers every key written (scripts included) and, a few keys at a time, asks the mock about each:
 * reading an expired key deletes it. Live keys go to the back of the line, so the whole keyspace is
 * visited in turn at a small fixed cost per command.
 */
function expirySweeper(client: unknown): { tick(): void; tracked(): number } | null {
  const internals = client as MockInternals;
  const events = internals.context?.modifiedKeyEvents;
  const data = internals.data;
  if (typeof events?.on !== "function" || typeof data?.has !== "function") return null;
  const written = new Set<string>();
  events.on("modified", (key) => written.add(key));
  let commands = 0;
  return {
    tick() {
      if (++commands % SWEEP_EVERY_COMMANDS !== 0) return;
      const batch = [...take(written, KEYS_CHECKED_PER_SWEEP)];
      for (const key of batch) {
        written.delete(key);
        // has() deletes the key when it has expired (which re-reports it as modified: drop it again).
        if (data.has(key)) written.add(key);
        else written.delete(key);
      }
    },
    tracked: () => written.size,
  };
}

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  if (count <= 0) return;
  let n = 0;
  for (const item of items) {
    yield item;
    if (++n >= count) return;
  }
}

function sha1Hex(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const MOCK_SCRIPT_ERROR = "Error trying to loading or executing lua code string in VM: ";

/** Redis-style script errors: `{err = "CODE msg"}` arrives as sent, anything else as `ERR ...`. */
function scriptError(message: string): string {
  const bare = message.startsWith(MOCK_SCRIPT_ERROR) ? message.slice(MOCK_SCRIPT_ERROR.length) : message;
  return /^[A-Z][A-Z_]*[ \n]/.test(bare) ? bare : `ERR ${bare}`;
}

function parseNumKeys(raw: string | undefined, argCount: number): number {
  const numKeys = Number(raw);
  if (raw === undefined || !/^-?\d+$/.test(raw) || !Number.isSafeInteger(numKeys)) {
    throw new Error("ERR value is not an integer or out of range");
  }
  if (numKeys < 0) throw new Error("ERR Number of keys can't be negative");
  if (numKeys > argCount) throw new Error("ERR Number of keys can't be greater than number of args");
  return numKeys;
}

export interface EmbeddedRedisBackend extends RedisBackend {
  /**
   * Keys written and not yet found gone by the background expiry sweep (live keys plus expired or
   * deleted ones it has not visited yet); null when this ioredis-mock version offers no sweep.
   */
  keysTracked(): number | null;
}

/**
 * A fresh in-memory Redis (its own keyspace, nothing persisted) behind the RedisBackend interface.
 * Every command, script and MULTI runs one at a time in arrival order, so MULTI/EXEC and Lua scripts
 * are atomic as in Redis.
 */
export function createEmbeddedBackend(): EmbeddedRedisBackend {
  // ioredis-mock shares one keyspace per host:port/db across instances; a unique host isolates this one.
  const client = new RedisMock({ host: `embedded-${randomUUID()}`, port: 6379, lazyConnect: false });
  const commands = client as unknown as Record<string, unknown>;
  // SHA1 of each script as the client sent it (shebang included) → the Lua fengari runs.
  const scripts = new Map<string, string>();
  const sweep = expirySweeper(client);

  const lookup = (name: string): CommandFn => {
    const known = REDIS_COMMANDS.has(name) && !NOT_RELAYED.has(name) && !SCRIPT_COMMANDS.has(name);
    const fn = known ? commands[name] : undefined;
    if (typeof fn !== "function") throw new Error(`ERR unknown command '${name}'`);
    return (fn as CommandFn).bind(client);
  };

  const evalScript = async (script: string, rest: string[]): Promise<unknown> => {
    const numKeys = parseNumKeys(rest[0], rest.length - 1);
    scripts.set(sha1Hex(script), script);
    const run = commands.eval as CommandFn;
    try {
      return luaReply(await run.call(client, embeddedLua(script), numKeys, ...rest.slice(1)));
    } catch (err) {
      throw new Error(scriptError(errorMessage(err)));
    }
  };

  const scriptCommand = (args: string[]): unknown => {
    const sub = String(args[0] ?? "").toLowerCase();
    if (sub === "load" && args[1] !== undefined) {
      const sha = sha1Hex(args[1]);
      scripts.set(sha, args[1]);
      return sha;
    }
    if (sub === "exists") return args.slice(1).map((sha) => (scripts.has(sha.toLowerCase()) ? 1 : 0));
    if (sub === "flush") {
      scripts.clear();
      return "OK";
    }
    throw new Error(`ERR unknown subcommand or wrong number of arguments for 'script|${sub}'`);
  };

  const run = async (cmd: RedisArg[]): Promise<unknown> => {
    sweep?.tick();
    const name = String(cmd[0] ?? "").toLowerCase();
    const args = cmd.slice(1).map(String);
    switch (name) {
      case "eval":
      case "eval_ro":
        if (args[0] === undefined) throw new Error(`ERR wrong number of arguments for '${name}' command`);
        return evalScript(args[0], args.slice(1));
      case "evalsha":
      case "evalsha_ro": {
        const script = scripts.get(String(args[0]).toLowerCase());
        if (script === undefined) throw new Error("NOSCRIPT No matching script. Please use EVAL.");
        return evalScript(script, args.slice(1));
      }
      case "script":
        return scriptCommand(args);
      default:
        try {
          return redisReply(name, await lookup(name)(...normaliseKeywords(name, args)));
        } catch (err) {
          // The mock lists real commands it does not emulate as throwing TypeErrors.
          if (err instanceof TypeError && /Unsupported command/.test(err.message)) {
            throw new Error(`ERR unknown command '${name}' (not supported by the embedded engine)`);
          }
          throw err;
        }
    }
  };

  // One queue for everything: a MULTI runs its commands back to back with nothing in between.
  let tail: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };

  return {
    keysTracked: () => sweep?.tracked() ?? null,
    exec: (cmd) => serially(() => run(cmd)),
    multi: (cmds) =>
      serially(async () => {
        // Like Redis queueing: an unknown command aborts the whole transaction before anything runs.
        for (const cmd of cmds) {
          const name = String(cmd[0] ?? "").toLowerCase();
          if (!SCRIPT_COMMANDS.has(name)) {
            try {
              lookup(name);
            } catch (err) {
              throw new Error(
                `EXECABORT Transaction discarded because of previous errors: ${errorMessage(err)}`,
              );
            }
          }
        }
        const replies: CommandResult[] = [];
        for (const cmd of cmds) {
          try {
            replies.push({ result: await run(cmd) });
          } catch (err) {
            replies.push({ error: errorMessage(err) });
          }
        }
        return replies;
      }),
    close: () =>
      serially(async () => {
        await client.flushall();
        scripts.clear();
        client.disconnect();
      }),
  };
}
