// The gateway must be indistinguishable from Upstash for the unmodified @upstash/redis and
// @upstash/ratelimit clients, against the real Redis and against the in-memory engine.
import { createHash, randomUUID } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemoryBackend,
  createRedisBackend,
  type RedisBackend,
  startRedisServer,
  startUpstashGateway,
  stripUpstashScriptFlags,
  type UpstashGateway,
} from "../src/upstash-gateway";
import { closedPort, elapsed, REDIS_URL } from "./helpers";

const TOKEN = `token-${randomUUID()}`;

async function rawCommand(
  gateway: UpstashGateway,
  body: unknown,
  opts: { path?: string; base64?: boolean; token?: string } = {},
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.token ?? TOKEN}`,
    "content-type": "application/json",
  };
  if (opts.base64) headers["upstash-encoding"] = "base64";
  const res = await fetch(`${gateway.url}${opts.path ?? "/"}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** The checks every backend must pass through the real client. */
function basicClientChecks(setup: () => { redis: Redis; prefix: string }) {
  it("round-trips unicode strings and JSON objects", async () => {
    const { redis, prefix } = setup();
    const text = 'héllo wörld ✓ 日本語 🎉 "quoted" \\ back';
    await redis.set(`${prefix}text`, text);
    expect(await redis.get(`${prefix}text`)).toBe(text);

    const obj = { a: 1, nested: { list: [1, "two", null] }, s: "ü" };
    await redis.set(`${prefix}obj`, obj);
    expect(await redis.get(`${prefix}obj`)).toEqual(obj);

    // Values that are themselves valid base64 or equal to status words must survive decoding.
    await redis.set(`${prefix}ok`, "OK");
    await redis.set(`${prefix}pong`, "PONG");
    expect(await redis.mget(`${prefix}ok`, `${prefix}pong`, `${prefix}missing`)).toEqual([
      "OK",
      "PONG",
      null,
    ]);
    expect(await redis.get(`${prefix}missing`)).toBeNull();
  });

  it("SET NX EX only sets once and applies the TTL", async () => {
    const { redis, prefix } = setup();
    expect(await redis.set(`${prefix}nx`, "first", { nx: true, ex: 60 })).toBe("OK");
    expect(await redis.set(`${prefix}nx`, "second", { nx: true, ex: 60 })).toBeNull();
    expect(await redis.get(`${prefix}nx`)).toBe("first");
    const ttl = await redis.ttl(`${prefix}nx`);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it("expires keys", async () => {
    const { redis, prefix } = setup();
    await redis.set(`${prefix}short`, "v", { px: 50 });
    expect(await redis.get(`${prefix}short`)).toBe("v");
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await redis.get(`${prefix}short`)).toBeNull();
    expect(await redis.exists(`${prefix}short`)).toBe(0);
  });

  it("incr counts and rejects non-integers", async () => {
    const { redis, prefix } = setup();
    expect(await redis.incr(`${prefix}n`)).toBe(1);
    expect(await redis.incr(`${prefix}n`)).toBe(2);
    expect(await redis.incrby(`${prefix}n`, 10)).toBe(12);
    await redis.set(`${prefix}word`, "abc");
    await expect(redis.incr(`${prefix}word`)).rejects.toThrow(/not an integer/);
  });

  it("runs pipelines and keeps per-command errors", async () => {
    const { redis, prefix } = setup();
    const pipe = redis.pipeline();
    pipe.set(`${prefix}p`, "1");
    pipe.incr(`${prefix}p`);
    pipe.get(`${prefix}p`);
    pipe.hset(`${prefix}h`, { a: "x", b: 2 });
    pipe.hgetall(`${prefix}h`);
    expect(await pipe.exec()).toEqual(["OK", 2, 2, 2, { a: "x", b: 2 }]);

    const failing = redis.pipeline();
    failing.set(`${prefix}s`, "text");
    failing.incr(`${prefix}s`);
    const results = await failing.exec({ keepErrors: true });
    expect(results[0]?.error).toBeUndefined();
    expect(results[1]?.error).toMatch(/not an integer/);
  });

  it("runs multi() transactions", async () => {
    const { redis, prefix } = setup();
    const tx = redis.multi();
    tx.set(`${prefix}m`, "5");
    tx.incrby(`${prefix}m`, 5);
    tx.zadd(`${prefix}z`, { score: 2, member: "b" }, { score: 1, member: "a" });
    tx.zrange(`${prefix}z`, 0, -1, { withScores: true });
    tx.sadd(`${prefix}set`, "x", "y");
    tx.smembers(`${prefix}set`);
    const [set, incr, zadd, zrange, sadd, members] = await tx.exec();
    expect([set, incr, zadd, zrange, sadd]).toEqual(["OK", 10, 2, ["a", 1, "b", 2], 2]);
    expect((members as string[]).sort()).toEqual(["x", "y"]);
  });

  it("serves single commands on POST / when auto-pipelining is off", async () => {
    const { redis, prefix } = setup();
    expect(await redis.set(`${prefix}single`, "v")).toBe("OK");
    expect(await redis.get(`${prefix}single`)).toBe("v");
    expect(await redis.del(`${prefix}single`)).toBe(1);
  });
}

describe("gateway → real Redis", () => {
  let backend: RedisBackend;
  let gateway: UpstashGateway;
  const prefix = `devstack-test:${randomUUID()}:`;
  let redis: Redis;
  let redisNoPipelining: Redis;

  beforeAll(async () => {
    backend = createRedisBackend(REDIS_URL);
    gateway = await startUpstashGateway({ token: TOKEN, backend });
    redis = new Redis({ url: gateway.url, token: TOKEN });
    redisNoPipelining = new Redis({ url: gateway.url, token: TOKEN, enableAutoPipelining: false });
  });

  afterAll(async () => {
    // Only this run's keys: the shared Redis may hold other people's data.
    const keys = (await backend.exec(["KEYS", `${prefix}*`])) as Buffer[];
    if (keys.length > 0) await backend.exec(["DEL", ...keys.map((k) => k.toString("utf8"))]);
    await gateway.close();
    await backend.close();
  });

  describe("with auto-pipelining", () => basicClientChecks(() => ({ redis, prefix: `${prefix}a:` })));
  describe("without auto-pipelining", () =>
    basicClientChecks(() => ({ redis: redisNoPipelining, prefix: `${prefix}b:` })));

  it("answers the health check without a token", async () => {
    const res = await fetch(gateway.url);
    expect(res.status).toBe(200);
  });

  it("base64-encodes every string except a top-level OK when asked", async () => {
    const key = `${prefix}raw`;
    expect(await rawCommand(gateway, ["SET", key, "ünï"], { base64: true })).toEqual({
      status: 200,
      json: { result: "OK" },
    });
    expect(await rawCommand(gateway, ["GET", key], { base64: true })).toEqual({
      status: 200,
      json: { result: Buffer.from("ünï").toString("base64") },
    });
    expect(await rawCommand(gateway, ["GET", key])).toEqual({ status: 200, json: { result: "ünï" } });
    const pipeline = await rawCommand(
      gateway,
      [
        ["SET", key, "OK"],
        ["MGET", key, `${prefix}none`],
        ["INCR", key],
      ],
      { path: "/pipeline", base64: true },
    );
    expect(pipeline.status).toBe(200);
    const [first, second, third] = pipeline.json as Array<{ result?: unknown; error?: string }>;
    expect(first).toEqual({ result: "OK" });
    // Inside arrays the client decodes unconditionally, so "OK" must be encoded there.
    expect(second).toEqual({ result: [Buffer.from("OK").toString("base64"), null] });
    expect(third?.error).toMatch(/not an integer/);
  });

  it("answers a bad command with HTTP 400 and {error}", async () => {
    const res = await rawCommand(gateway, ["NOSUCHCOMMAND", "x"]);
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/unknown command/i);
    expect((await rawCommand(gateway, "not a command")).status).toBe(400);
  });

  it("rejects a wrong or missing token with 401", async () => {
    const wrong = new Redis({ url: gateway.url, token: "wrong-token", retry: false });
    await expect(wrong.get(`${prefix}x`)).rejects.toThrow(/Unauthorized/);
    const res = await fetch(gateway.url, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("strips allow-key-locking for EVAL and serves EVALSHA of the original script", async () => {
    const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
    const sha = createHash("sha1").update(script).digest("hex");
    const key = `${prefix}lua`;
    // Unknown sha before the script was ever seen: NOSCRIPT, which makes the client fall back to EVAL.
    await expect(redis.evalsha(sha, [key], [])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [key], [])).toBe(1);
    expect(await redis.evalsha(sha, [key], [])).toBe(2);
    // Other flags survive: a write under no-writes must still be refused by Redis.
    const readOnly = "#!lua flags=no-writes,allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
    await expect(redis.eval(readOnly, [key], [])).rejects.toThrow(/Write commands are not allowed/);
    const loaded = await redis.scriptLoad("#!lua flags=allow-key-locking\nreturn redis.call('GET', KEYS[1])");
    expect(await redis.evalsha(loaded, [key], [])).toBe(2);
  });

  it("fails fast when Redis is down", async () => {
    const downBackend = createRedisBackend(`redis://127.0.0.1:${await closedPort()}`);
    const downGateway = await startUpstashGateway({ token: TOKEN, backend: downBackend });
    try {
      const client = new Redis({ url: downGateway.url, token: TOKEN, retry: false });
      for (let attempt = 0; attempt < 3; attempt++) {
        const { ms, outcome } = await elapsed(() => client.get("anything"));
        expect(outcome.status).toBe("rejected");
        expect(ms).toBeLessThan(1000);
      }
      const { ms, outcome } = await elapsed(() => client.pipeline().set("a", "1").get("a").exec());
      expect(outcome.status).toBe("rejected");
      expect(ms).toBeLessThan(1000);
      const raw = await rawCommand(downGateway, ["PING"]);
      expect(raw.status).toBe(503);
    } finally {
      await downGateway.close();
      await downBackend.close();
    }
  });

  describe("@upstash/ratelimit", () => {
    const cases = [
      ["fixedWindow", Ratelimit.fixedWindow(3, "60 s")],
      ["slidingWindow", Ratelimit.slidingWindow(3, "60 s")],
      ["tokenBucket", Ratelimit.tokenBucket(1, "60 s", 3)],
    ] as const;
    for (const [name, limiter] of cases) {
      it(`${name}: the 4th call in the window is denied`, async () => {
        // timeout 0: the library would otherwise report success on a slow backend and hide failures.
        const ratelimit = new Ratelimit({
          redis,
          limiter,
          prefix: `${prefix}rl:${name}`,
          ephemeralCache: false,
          timeout: 0,
        });
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await ratelimit.limit("client-1"));
        expect(results.map((r) => r.success)).toEqual([true, true, true, false, false]);
        expect(results[0]?.remaining).toBe(2);
        expect(results.every((r) => r.reason === undefined)).toBe(true);
        expect((await ratelimit.limit("client-2")).success).toBe(true);
      });
    }
  });
});

describe("gateway → in-memory engine", () => {
  let backend: RedisBackend;
  let gateway: UpstashGateway;
  let redis: Redis;
  let redisNoPipelining: Redis;

  beforeAll(async () => {
    backend = createMemoryBackend();
    gateway = await startUpstashGateway({ token: TOKEN, backend });
    redis = new Redis({ url: gateway.url, token: TOKEN });
    redisNoPipelining = new Redis({ url: gateway.url, token: TOKEN, enableAutoPipelining: false });
  });

  afterAll(async () => {
    await gateway.close();
    await backend.close();
  });

  describe("with auto-pipelining", () => basicClientChecks(() => ({ redis, prefix: "a:" })));
  describe("without auto-pipelining", () =>
    basicClientChecks(() => ({ redis: redisNoPipelining, prefix: "b:" })));

  it("supports the rate-limiter-shaped sorted-set commands", async () => {
    await redis.zadd("z", { score: 1, member: "a" }, { score: 2, member: "b" }, { score: 3, member: "c" });
    expect(await redis.zcount("z", "(1", "+inf")).toBe(2);
    expect(await redis.zremrangebyscore("z", "-inf", 1)).toBe(1);
    expect(await redis.zcard("z")).toBe(2);
    expect(await redis.zrange("z", 0, -1)).toEqual(["b", "c"]);
    expect(await redis.zrem("z", "b")).toBe(1);
  });

  it("scans keys with a pattern", async () => {
    await redis.mset({ "scan:1": "a", "scan:2": "b", "other:1": "c" });
    expect((await redis.keys("scan:*")).sort()).toEqual(["scan:1", "scan:2"]);
    const found: string[] = [];
    let cursor: string | number = 0;
    do {
      const [next, keys]: [string | number, string[]] = await redis.scan(cursor, {
        match: "scan:*",
        count: 2,
      });
      found.push(...keys);
      cursor = next;
    } while (String(cursor) !== "0");
    expect(found.sort()).toEqual(["scan:1", "scan:2"]);
  });

  it("refuses scripts with a clear message", async () => {
    await expect(redis.eval("return 1", [], [])).rejects.toThrow(/scripts need a real redis-server/);
  });

  it("reports WRONGTYPE like Redis", async () => {
    await redis.set("str", "x");
    await expect(redis.hget("str", "f")).rejects.toThrow(/WRONGTYPE/);
  });
});

describe("redis-server child process", () => {
  it("starts a private redis-server that the gateway can use for scripts", async () => {
    const server = await startRedisServer({});
    if (server === null) {
      // No redis-server on PATH: startRedisServer documents null for this, nothing more to check.
      return;
    }
    const backend = createRedisBackend(server.url);
    const gateway = await startUpstashGateway({ token: TOKEN, backend });
    try {
      const redis = new Redis({ url: gateway.url, token: TOKEN });
      const ratelimit = new Ratelimit({
        redis,
        limiter: Ratelimit.fixedWindow(1, "10 s"),
        ephemeralCache: false,
        timeout: 0,
      });
      expect((await ratelimit.limit("x")).success).toBe(true);
      expect((await ratelimit.limit("x")).success).toBe(false);
    } finally {
      await gateway.close();
      await backend.close();
      await server.close();
    }
  });

  it("fails fast while Redis is gone and recovers when it is back", async () => {
    const first = await startRedisServer({});
    if (first === null) return;
    const port = Number(new URL(first.url).port);
    const backend = createRedisBackend(first.url);
    const gateway = await startUpstashGateway({ token: TOKEN, backend });
    let second: Awaited<ReturnType<typeof startRedisServer>> = null;
    try {
      const redis = new Redis({ url: gateway.url, token: TOKEN, retry: false });
      expect(await redis.set("k", "v")).toBe("OK");
      await first.close();
      const { ms, outcome } = await elapsed(() => redis.get("k"));
      expect(outcome.status).toBe("rejected");
      expect(ms).toBeLessThan(1000);

      second = await startRedisServer({ port });
      expect(second).not.toBeNull();
      // The backend reconnects on its own (retry delay capped at 1 s).
      const deadline = Date.now() + 5000;
      let value: unknown;
      while (Date.now() < deadline) {
        try {
          value = await redis.set("k", "again");
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(value).toBe("OK");
    } finally {
      await gateway.close();
      await backend.close();
      await first.close();
      await second?.close();
    }
  });
});

describe("stripUpstashScriptFlags", () => {
  it("drops only the Upstash flag and keeps line numbers", () => {
    expect(stripUpstashScriptFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua\nreturn 1");
    expect(stripUpstashScriptFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
    expect(stripUpstashScriptFlags("#!lua flags=no-writes\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
    expect(stripUpstashScriptFlags("return 1")).toBe("return 1");
  });
});
