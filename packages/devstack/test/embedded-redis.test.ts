// The embedded engine's own contract: Redis's Lua semantics on top of ioredis-mock, keyword case,
// script cache, MULTI, isolation between instances and background expiry. The gateway-level checks
// shared with the real Redis live in upstash-gateway.test.ts.
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  createEmbeddedBackend,
  type EmbeddedRedisBackend,
  embeddedLua,
  normaliseKeywords,
  withoutShebang,
} from "../src/embedded-redis";

const opened: EmbeddedRedisBackend[] = [];
function backend(): EmbeddedRedisBackend {
  const b = createEmbeddedBackend();
  opened.push(b);
  return b;
}

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

describe("keywords", () => {
  it("upper-cases options, never keys, values or patterns", () => {
    expect(normaliseKeywords("set", ["nx", "ex", "nx", "ex", "60"])).toEqual(["nx", "ex", "NX", "EX", "60"]);
    expect(normaliseKeywords("set", ["k", "v", "px", "50", "get"])).toEqual(["k", "v", "PX", "50", "GET"]);
    expect(normaliseKeywords("scan", ["0", "match", "count", "count", "5"])).toEqual([
      "0",
      "MATCH",
      "count",
      "COUNT",
      "5",
    ]);
    expect(normaliseKeywords("zadd", ["z", "nx", "ch", "1", "ch"])).toEqual(["z", "NX", "CH", "1", "ch"]);
    expect(normaliseKeywords("get", ["nx"])).toEqual(["nx"]);
  });

  it("lower-case SET options take effect, as @upstash/redis sends them", async () => {
    const b = backend();
    expect(await b.exec(["set", "k", "1", "nx", "ex", 60])).toBe("OK");
    expect(await b.exec(["set", "k", "2", "nx", "ex", 60])).toBeNull();
    expect(await b.exec(["ttl", "k"])).toBe(60);
    expect(await b.exec(["set", "p", "1", "px", 5000])).toBe("OK");
    expect(await b.exec(["pttl", "p"])).toBeGreaterThan(4900);
  });
});

describe("scripts", () => {
  it("reads the shebang as Redis does, keeping line numbers", () => {
    expect(withoutShebang("#!lua flags=no-writes\nreturn 1")).toBe("\nreturn 1");
    expect(withoutShebang("#!lua")).toBe("");
    expect(withoutShebang("return 1")).toBe("return 1");
    // The wrapper shares the script's first line, so line N of the script is line N for Lua too.
    expect(embeddedLua("a\nb\nc").split("\n")).toHaveLength(4);
  });

  it("converts replies both ways as Redis's Lua does", async () => {
    const b = backend();
    await b.exec(["HSET", "h", "a", "1"]);
    await b.exec(["SET", "s", "x"]);
    // Absent hash fields are false inside the script (what the token-bucket script relies on).
    expect(
      await b.exec([
        "EVAL",
        'local v = redis.call("HMGET", KEYS[1], "a", "zz") return {#v, v[1], tostring(v[2] == false)}',
        1,
        "h",
      ]),
    ).toEqual([2, "1", "true"]);
    // Nested replies are 1-based plain tables too.
    expect(await b.exec(["EVAL", 'local r = redis.call("SCAN", 0) return {#r, r[1], #r[2]}', 0])).toEqual([
      2,
      "0",
      2,
    ]);
    expect(
      await b.exec(["EVAL", 'local t = redis.call("HGETALL", KEYS[1]) return {unpack(t)}', 1, "h"]),
    ).toEqual(["a", "1"]);
    // Out: numbers truncate, false is nil, true is 1, arrays stop at the first nil.
    expect(await b.exec(["EVAL", "return {1, {2.9, false}, true, -3.5, nil, 9}", 0])).toEqual([
      1,
      [2, null],
      1,
      -3,
    ]);
    expect(await b.exec(["EVAL", "local t = {} t[1] = 'a' t[2] = 'b' return t", 0])).toEqual(["a", "b"]);
    expect(await b.exec(["EVAL", "return {ok = 'FINE'}", 0])).toBe("FINE");
    expect(await b.exec(["EVAL", "return nil", 0])).toBeNull();
    expect(await b.exec(["EVAL", "redis.call('SET', KEYS[1], ARGV[1])", 1, "w", "v"])).toBeNull();
    expect(await b.exec(["GET", "w"])).toBe("v");
  });

  it("reports errors as Redis does", async () => {
    const b = backend();
    await expect(b.exec(["EVAL", "return {err = 'MYERR custom'}", 0])).rejects.toThrow(/^MYERR custom$/);
    await expect(b.exec(["EVAL", "error('boom')", 0])).rejects.toThrow(/^ERR .*boom/);
    await expect(b.exec(["EVAL", "return 1", 2, "only-one"])).rejects.toThrow(/greater than number of args/);
    await expect(b.exec(["EVAL", "return 1", -1])).rejects.toThrow(/negative/);
    await expect(b.exec(["EVAL", "return 1", "x"])).rejects.toThrow(/not an integer/);
    await expect(b.exec(["EVAL", "return (", 0])).rejects.toThrow(/^ERR /);
    // redis.pcall hands the error to the script as {err = ...}.
    expect(await b.exec(["EVAL", "local r = redis.pcall('EVALSHA') return type(r.err)", 0])).toBe("string");
  });

  it("caches scripts by the SHA1 of the text the client sent", async () => {
    const b = backend();
    const script = "#!lua flags=allow-key-locking\nreturn ARGV[1]";
    expect(await b.exec(["SCRIPT", "LOAD", script])).toBe(sha1(script));
    expect(await b.exec(["SCRIPT", "EXISTS", sha1(script), sha1("other")])).toEqual([1, 0]);
    expect(await b.exec(["EVALSHA", sha1(script), 0, "hi"])).toBe("hi");
    expect(await b.exec(["EVALSHA", sha1(script).toUpperCase(), 0, "HI"])).toBe("HI");
    const evaluated = "return KEYS[1]";
    expect(await b.exec(["EVAL", evaluated, 1, "k"])).toBe("k");
    expect(await b.exec(["EVALSHA_RO", sha1(evaluated), 1, "k2"])).toBe("k2");
    expect(await b.exec(["SCRIPT", "FLUSH"])).toBe("OK");
    await expect(b.exec(["EVALSHA", sha1(script), 0])).rejects.toThrow(/^NOSCRIPT/);
  });

  it("runs each script atomically, even when requests overlap", async () => {
    const b = backend();
    const incr =
      "local v = tonumber(redis.call('GET', KEYS[1]) or '0') redis.call('SET', KEYS[1], v + 1) return v + 1";
    const results = await Promise.all(Array.from({ length: 50 }, () => b.exec(["EVAL", incr, 1, "n"])));
    expect([...(results as number[])].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });
});

describe("commands", () => {
  it("refuses what it does not know or must not relay", async () => {
    const b = backend();
    await expect(b.exec(["NOSUCH"])).rejects.toThrow(/^ERR unknown command 'nosuch'/);
    // EventEmitter methods of the mock are not commands.
    await expect(b.exec(["emit", "x"])).rejects.toThrow(/unknown command/);
    // Subscriber mode would wedge the shared instance; connection state is the gateway's business.
    await expect(b.exec(["SUBSCRIBE", "c"])).rejects.toThrow(/unknown command/);
    await expect(b.exec(["MULTI"])).rejects.toThrow(/unknown command/);
    // A real command the mock does not emulate says so.
    await expect(b.exec(["GEOADD", "g", 1, 2, "m"])).rejects.toThrow(/not supported by the embedded engine/);
    expect(await b.exec(["PING"])).toBe("PONG");
  });

  it("gives HGETALL as Redis's flat array", async () => {
    const b = backend();
    await b.exec(["HSET", "h", "a", "1", "b", "2"]);
    expect(await b.exec(["HGETALL", "h"])).toEqual(["a", "1", "b", "2"]);
  });

  it("keeps each instance's keyspace its own", async () => {
    const one = backend();
    const two = backend();
    await one.exec(["SET", "shared-name", "one"]);
    expect(await two.exec(["GET", "shared-name"])).toBeNull();
    expect(await two.exec(["DBSIZE"])).toBe(0);
  });
});

describe("MULTI", () => {
  it("runs the commands together and keeps per-command errors", async () => {
    const b = backend();
    const [replies, after] = await Promise.all([
      b.multi([
        ["SET", "m", "a"],
        ["EVAL", "error('in tx')", 0],
        ["GET", "m"],
      ]),
      // Sent while the transaction runs: it must come after it, never between its commands.
      b.exec(["SET", "m", "b"]),
    ]);
    expect(replies[0]).toEqual({ result: "OK" });
    expect(replies[1]?.error).toMatch(/in tx/);
    expect(replies[2]).toEqual({ result: "a" });
    expect(after).toBe("OK");
    expect(await b.exec(["GET", "m"])).toBe("b");
  });

  it("aborts before running anything when a command is unknown", async () => {
    const b = backend();
    await expect(
      b.multi([
        ["SET", "x", "1"],
        ["NOSUCH", "x"],
      ]),
    ).rejects.toThrow(/^EXECABORT/);
    expect(await b.exec(["EXISTS", "x"])).toBe(0);
  });
});

describe("expiry", () => {
  it("forgets expired keys nobody reads again", async () => {
    const b = backend();
    for (let i = 0; i < 300; i++) await b.exec(["SET", `nonce:${i}`, "1", "PX", 300]);
    await b.exec(["SET", "kept", "1"]);
    // Scripts' writes count too.
    await b.exec(["EVAL", "redis.call('SET', KEYS[1], 1, 'PX', 300)", 1, "scripted"]);
    expect(b.keysTracked()).toBe(302);
    await new Promise((resolve) => setTimeout(resolve, 350));
    // The sweep visits a few keys every so many commands: this many cover the whole keyspace.
    for (let i = 0; i < 400; i++) await b.exec(["PING"]);
    expect(b.keysTracked()).toBe(1);
    expect(await b.exec(["GET", "kept"])).toBe("1");
  });
});
