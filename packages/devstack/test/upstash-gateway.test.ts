// The gateway must be indistinguishable from Upstash for the unmodified @upstash/redis and
// @upstash/ratelimit clients, against the real Redis and against the embedded engine alike.
import { createHash, randomUUID } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createEmbeddedBackend,
  createRedisBackend,
  type RedisBackend,
  startRedisServer,
  startUpstashGateway,
  stripUpstashScriptFlags,
  type UpstashGateway,
} from "../src/upstash-gateway";
import { closedPort, elapsed, REDIS_URL } from "./helpers";

const TOKEN = `token-${randomUUID()}`;

type Reply = { result?: unknown; error?: string };

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

/** A gateway over one backend, with clients; the real Redis is shared, so keys carry a run prefix. */
interface Target {
  gateway: UpstashGateway;
  redis: Redis;
  redisNoPipelining: Redis;
  prefix: string;
}

function useTarget(makeBackend: () => RedisBackend, shared: boolean): () => Target {
  let backend: RedisBackend;
  let target: Target;
  const prefix = shared ? `devstack-test:${randomUUID()}:` : "";

  beforeAll(async () => {
    backend = makeBackend();
    const gateway = await startUpstashGateway({ token: TOKEN, backend });
    target = {
      gateway,
      redis: new Redis({ url: gateway.url, token: TOKEN }),
      redisNoPipelining: new Redis({ url: gateway.url, token: TOKEN, enableAutoPipelining: false }),
      prefix,
    };
  });

  afterAll(async () => {
    if (shared) {
      // Only this run's keys: the shared Redis may hold other people's data.
      const keys = (await backend.exec(["KEYS", `${prefix}*`])) as Buffer[];
      if (keys.length > 0) await backend.exec(["DEL", ...keys.map((k) => k.toString("utf8"))]);
    }
    await target.gateway.close();
    await backend.close();
  });

  return () => target;
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

  it("INCR, EXPIRE and PEXPIRE as the login throttle uses them", async () => {
    const { redis, prefix } = setup();
    expect(await redis.incr(`${prefix}n`)).toBe(1);
    expect(await redis.incr(`${prefix}n`)).toBe(2);
    expect(await redis.incrby(`${prefix}n`, 10)).toBe(12);
    expect(await redis.expire(`${prefix}n`, 100)).toBe(1);
    expect(await redis.ttl(`${prefix}n`)).toBeGreaterThan(95);
    expect(await redis.pexpire(`${prefix}n`, 50_000)).toBe(1);
    expect(await redis.pttl(`${prefix}n`)).toBeLessThanOrEqual(50_000);
    expect(await redis.expire(`${prefix}none`, 100)).toBe(0);
    expect(await redis.mget(`${prefix}n`, `${prefix}none`)).toEqual([12, null]);
    expect(await redis.del(`${prefix}n`, `${prefix}none`)).toBe(1);
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
    failing.eval("error('boom')", [], []);
    failing.get(`${prefix}s`);
    const results = await failing.exec({ keepErrors: true });
    expect(results[0]?.error).toBeUndefined();
    expect(results[1]?.error).toMatch(/boom/);
    expect(results[2]?.result).toBe("text");
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

/** Scripts, rate limits and the REST protocol itself: the same on every backend. */
function protocolChecks(setup: () => Target) {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("answers the health check without a token", async () => {
    const res = await fetch(setup().gateway.url);
    expect(res.status).toBe(200);
  });

  it("base64-encodes every string except a top-level OK when asked", async () => {
    const { gateway, prefix } = setup();
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
        ["EVALSHA", "0".repeat(40), 0],
      ],
      { path: "/pipeline", base64: true },
    );
    expect(pipeline.status).toBe(200);
    const [first, second, third] = pipeline.json as Reply[];
    expect(first).toEqual({ result: "OK" });
    // Inside arrays the client decodes unconditionally, so "OK" must be encoded there.
    expect(second).toEqual({ result: [Buffer.from("OK").toString("base64"), null] });
    expect(third?.error).toMatch(/NOSCRIPT/);
  });

  it("answers a bad command with HTTP 400 and {error}", async () => {
    const { gateway } = setup();
    const res = await rawCommand(gateway, ["NOSUCHCOMMAND", "x"]);
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/unknown command/i);
    expect((await rawCommand(gateway, "not a command")).status).toBe(400);
  });

  it("rejects a wrong or missing token with 401", async () => {
    const { gateway, prefix } = setup();
    const wrong = new Redis({ url: gateway.url, token: "wrong-token", retry: false });
    await expect(wrong.get(`${prefix}x`)).rejects.toThrow(/Unauthorized/);
    const res = await fetch(gateway.url, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("strips allow-key-locking for EVAL and serves EVALSHA of the original script", async () => {
    const { redis, prefix } = setup();
    // Unique text: an earlier run against the shared Redis must not have cached this script.
    const script = `#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1]) -- ${prefix}`;
    const sha = createHash("sha1").update(script).digest("hex");
    const key = `${prefix}lua`;
    // Unknown sha before the script was ever seen: NOSCRIPT, which makes the client fall back to EVAL.
    await expect(redis.evalsha(sha, [key], [])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [key], [])).toBe(1);
    expect(await redis.evalsha(sha, [key], [])).toBe(2);
    const loaded = await redis.scriptLoad(
      `#!lua flags=allow-key-locking\nreturn redis.call('GET', KEYS[1]) -- ${prefix}`,
    );
    expect(await redis.evalsha(loaded, [key], [])).toBe(2);
    // Scripts without a shebang take the same path with nothing rewritten.
    const plain = `return {KEYS[1], ARGV[1], tonumber(ARGV[2]) * 2} -- ${prefix}`;
    expect(await redis.eval(plain, [key], ["a", 21])).toEqual([key, "a", 42]);
    expect(await redis.evalsha(createHash("sha1").update(plain).digest("hex"), [key], ["b", 1])).toEqual([
      key,
      "b",
      2,
    ]);
  });

  describe("@upstash/ratelimit", () => {
    const cases = [
      ["fixedWindow", Ratelimit.fixedWindow(3, "60 s")],
      ["slidingWindow", Ratelimit.slidingWindow(3, "60 s")],
      ["tokenBucket", Ratelimit.tokenBucket(1, "60 s", 3)],
    ] as const;
    for (const [name, limiter] of cases) {
      it(`${name}: the 4th call in the window is denied`, async () => {
        const { redis, prefix } = setup();
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

    it("a ratelimit call and SET NX EX share one auto-pipelined request", async () => {
      const { redis, prefix } = setup();
      const ratelimit = new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(2, "60 s"),
        prefix: `${prefix}rl:mixed`,
        ephemeralCache: false,
        timeout: 0,
      });
      // The first call teaches the gateway the script (EVALSHA misses, EVAL follows).
      expect((await ratelimit.limit("k")).success).toBe(true);

      const fetchSpy = vi.spyOn(globalThis, "fetch");
      const nonce = `${prefix}nonce`;
      const [limited, first, second] = await Promise.all([
        ratelimit.limit("k"),
        redis.set(nonce, 1, { nx: true, ex: 300 }),
        redis.set(nonce, 1, { nx: true, ex: 300 }),
      ]);
      expect(limited).toMatchObject({ success: true, remaining: 0 });
      expect([first, second]).toEqual(["OK", null]);
      // One HTTP request carried all three, EVALSHA first.
      const pipelined = fetchSpy.mock.calls.filter(([url]) => String(url).endsWith("/pipeline"));
      expect(pipelined).toHaveLength(1);
      const body = JSON.parse(String(pipelined[0]?.[1]?.body)) as string[][];
      expect(body.map((cmd) => cmd[0]?.toLowerCase())).toEqual(["evalsha", "set", "set"]);
      expect(await redis.ttl(nonce)).toBeGreaterThan(290);
      expect((await ratelimit.limit("k")).success).toBe(false);
    });
  });

  it("MULTI/EXEC runs scripts and SET NX EX together and keeps per-command errors", async () => {
    const { gateway, prefix } = setup();
    const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])";
    const { status, json } = await rawCommand(
      gateway,
      [
        ["SET", `${prefix}tx:nonce`, "1", "NX", "EX", 300],
        ["SET", `${prefix}tx:nonce`, "2", "nx", "ex", 300],
        ["EVAL", script, 1, `${prefix}tx:count`, 5],
        ["EVAL", "error('inside multi')", 0],
        ["EVALSHA", createHash("sha1").update(script).digest("hex"), 1, `${prefix}tx:count`, 2],
        ["GET", `${prefix}tx:nonce`],
      ],
      { path: "/multi-exec" },
    );
    expect(status).toBe(200);
    const replies = json as Reply[];
    expect(replies.map((r) => r.result ?? null)).toEqual(["OK", null, 5, null, 7, "1"]);
    expect(replies[3]?.error).toMatch(/inside multi/);
    expect((await rawCommand(gateway, ["TTL", `${prefix}tx:nonce`])).json).toEqual({ result: 300 });
  });
}

describe("gateway → real Redis", () => {
  const target = useTarget(() => createRedisBackend(REDIS_URL), true);

  describe("with auto-pipelining", () =>
    basicClientChecks(() => ({ redis: target().redis, prefix: `${target().prefix}a:` })));
  describe("without auto-pipelining", () =>
    basicClientChecks(() => ({ redis: target().redisNoPipelining, prefix: `${target().prefix}b:` })));
  describe("protocol, scripts and rate limits", () => protocolChecks(target));

  // Error paths the embedded engine does not reproduce (see README): checked against Redis only.
  it("relays Redis's own argument and type errors", async () => {
    const { redis, prefix } = target();
    await redis.set(`${prefix}word`, "abc");
    await expect(redis.incr(`${prefix}word`)).rejects.toThrow(/not an integer/);
    await expect(redis.hget(`${prefix}word`, "f")).rejects.toThrow(/WRONGTYPE/);
  });

  it("keeps script flags other than allow-key-locking", async () => {
    const { redis, prefix } = target();
    // A write under no-writes must still be refused by Redis.
    const readOnly = "#!lua flags=no-writes,allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
    await expect(redis.eval(readOnly, [`${prefix}ro`], [])).rejects.toThrow(/Write commands are not allowed/);
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
});

describe("gateway → embedded engine", () => {
  const target = useTarget(() => createEmbeddedBackend(), false);

  describe("with auto-pipelining", () => basicClientChecks(() => ({ redis: target().redis, prefix: "a:" })));
  describe("without auto-pipelining", () =>
    basicClientChecks(() => ({ redis: target().redisNoPipelining, prefix: "b:" })));
  describe("protocol, scripts and rate limits", () => protocolChecks(target));
});

describe("sliding-window rate limits: embedded engine = real Redis", () => {
  const real = useTarget(() => createRedisBackend(REDIS_URL), true);
  const embedded = useTarget(() => createEmbeddedBackend(), false);

  /** The project's pattern (apps/api rate-limit middleware): single units, refunds, multi-unit calls. */
  async function sequence(target: Target, window: "10 s" | "1 m") {
    const ratelimit = new Ratelimit({
      redis: target.redis,
      limiter: Ratelimit.slidingWindow(5, window),
      prefix: `${target.prefix}rl:seq:${window}`,
      ephemeralCache: false,
      timeout: 0,
      analytics: false,
      enableTelemetry: false,
    });
    const steps: Array<{ success: boolean; remaining: number; limit: number }> = [];
    const take = async (rate?: number, id = "key-1") => {
      const r = await ratelimit.limit(id, rate === undefined ? undefined : { rate });
      steps.push({ success: r.success, remaining: r.remaining, limit: r.limit });
    };
    for (let i = 0; i < 7; i++) await take();
    await take(-1); // a refund, as the middleware gives back a unit the other window refused
    await take();
    await take();
    // Concurrent units of one batch: one auto-pipelined request, each unit its own atomic script.
    const concurrent = await Promise.all(Array.from({ length: 3 }, () => ratelimit.limit("key-2")));
    for (const r of concurrent) steps.push({ success: r.success, remaining: r.remaining, limit: r.limit });
    await take(2, "key-2");
    await take(1, "key-2");
    return steps;
  }

  it("gives the same allow/deny sequence and remaining counts", async () => {
    // Both runs must fall in one 10 s window: a boundary in between would let one of them start afresh.
    const intoWindow = Date.now() % 10_000;
    if (intoWindow > 7_000) await new Promise((resolve) => setTimeout(resolve, 10_050 - intoWindow));
    for (const window of ["10 s", "1 m"] as const) {
      const onRedis = await sequence(real(), window);
      const onEmbedded = await sequence(embedded(), window);
      expect(onEmbedded).toEqual(onRedis);
      expect(onRedis.slice(0, 7).map((s) => [s.success, s.remaining])).toEqual([
        [true, 4],
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
        [false, 0],
      ]);
      // The refund frees one unit; the next call takes it and the one after is refused again.
      expect(onRedis.slice(8, 10).map((s) => s.success)).toEqual([true, false]);
      // key-2: three concurrent units, two more at once, then nothing is left.
      expect(onRedis.slice(10).map((s) => [s.success, s.remaining])).toEqual([
        [true, 4],
        [true, 3],
        [true, 2],
        [true, 0],
        [false, 0],
      ]);
    }
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

  it("is skipped when DEVSTACK_NO_REDIS_SERVER=1, as on a machine without one", async () => {
    vi.stubEnv("DEVSTACK_NO_REDIS_SERVER", "1");
    try {
      expect(await startRedisServer({})).toBeNull();
    } finally {
      vi.unstubAllEnvs();
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
