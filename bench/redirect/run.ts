// bench/redirect: throughput and latency of the edge redirect against a bare 302 worker in the
// same Miniflare (same entry path, same load generator), in the stack `pnpm dev` starts (same
// options: request logs on, 1 s queue batches, PgBouncer when installed) on the real Redis and
// Postgres: Upstash gateway, the clicks queue and its consumer writing to Postgres.
//
// The load generator is an external process: wrk when it is on PATH (apt-get install wrk), else
// autocannon in this process (the stack runs in a child process either way). Two kinds of links:
//   fresh   every request a fresh signed link from a distinct visitor: a valid click that burns a
//           nonce, sets a dedupe key and is queued;
//   replay  one signed link replayed by distinct visitors: its first use counts, every later one
//           still redirects and is recorded as `replay` (and a fraud event).
// Every redirected click must reach Postgres exactly once. Prints figures and ratios only, and
// CPU ms per request by process.
//
//   pnpm bench:redirect    DURATION=10 CONNECTIONS=32 ROUNDS=2 MODES=fresh,replay
//                          LOADGEN=wrk|autocannon  STACK=dev|quiet (quiet: no request logs, 50 ms batches)

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { sql } from "kysely";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { DEV_STACK_OPTIONS } from "../../packages/devstack/src/stack";
import { type CpuKind, cpuPerRequest, cpuSnapshot, formatCpu } from "../lib/cpu";
import { signedLinkPath } from "../lib/signing";
import { spawnStack } from "../lib/spawn-stack";
import { fmt, withTempDatabase } from "../lib/temp-database";

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const MODES = (process.env.MODES ?? "fresh,replay").split(",").map((m) => m.trim()) as Mode[];
/** Fresh links signed ahead per edge round for wrk: this many per second of the round. */
const MAX_RATE = Number(process.env.MAX_RATE ?? 8000);
const STACK = process.env.STACK === "quiet" ? "quiet" : "dev";
const BARE_HOST = "bare.bench.local";
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36";

type Mode = "fresh" | "replay";

function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version.
    return (err as { status?: number }).status === 1;
  }
}
const LOADGEN = process.env.LOADGEN ?? (hasWrk() ? "wrk" : "autocannon");

const BARE_WORKER = `export default {
  fetch() {
    return new Response(null, { status: 302, headers: { location: "https://example.com/landing" } });
  },
};`;

/** Visitor counter across all loads, so no two edge requests share an IP (no dedupe hits). */
let visitor = 0;
const visitorIp = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  /** Answers that were not redirects, and transport errors (timeouts, resets). */
  non302: number;
  errors: number;
  total: number;
  cpu: [CpuKind, number][];
}

const work = mkdtempSync(path.join(tmpdir(), "bench-redirect-"));

// wrk: one Lua state (-t1), so the counter below numbers requests; paths come from a file signed
// beforehand (LuaJIT has no HMAC), one per request, in order.
const WRK_SCRIPT = `
local paths, n, idx, base, host = {}, 0, 0, 0, nil
local ua = ${JSON.stringify(UA)}
function init(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
  base = tonumber(args[2])
  if args[3] ~= "" then host = args[3] end
end
function request()
  local v = base + idx
  local p = paths[(idx % n) + 1]
  idx = idx + 1
  local h = { ["user-agent"] = ua,
    ["cf-connecting-ip"] = string.format("10.%d.%d.%d", math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256) }
  if host then h["Host"] = host end
  return wrk.format("GET", p, h)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
const wrkScript = path.join(work, "load.lua");
writeFileSync(wrkScript, WRK_SCRIPT);

function runWrk(url: string, pathsFile: string, host: string, seconds: number, base: number) {
  return new Promise<{ requests: number; status: number; errors: number; p50: number; p99: number }>(
    (resolve, reject) => {
      const child = spawn(
        "wrk",
        ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--timeout", "10s", "-s", wrkScript, url, "--"].concat([
          pathsFile,
          String(base),
          host,
        ]),
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.once("error", reject);
      child.once("exit", () => {
        const line = out.split("\n").find((l) => l.startsWith("WRK "));
        if (!line) return reject(new Error(`wrk printed no summary:\n${out}`));
        const r = JSON.parse(line.slice(4));
        resolve({
          requests: r.requests,
          status: r.status,
          errors: r.connect + r.read + r.write + r.timeout,
          p50: r.p50_us / 1000,
          p99: r.p99_us / 1000,
        });
      });
    },
  );
}

/** One timed load. `paths` is a fixed list (bare, replay) or a signer of fresh links. */
async function load(
  url: string,
  host: string | undefined,
  paths: string[] | (() => string),
  stackPid: number,
  seconds = DURATION,
): Promise<Result> {
  let result: Omit<Result, "cpu" | "rps">;
  let before: ReturnType<typeof cpuSnapshot>;
  if (LOADGEN === "wrk") {
    const list = typeof paths === "function" ? Array.from({ length: MAX_RATE * seconds }, paths) : paths;
    const file = path.join(work, "paths.txt");
    writeFileSync(file, `${list.join("\n")}\n`);
    const base = visitor;
    before = cpuSnapshot(stackPid);
    const r = await runWrk(url, file, host ?? "", seconds, base);
    visitor += r.requests + r.errors + CONNECTIONS;
    if (typeof paths === "function" && r.requests > list.length) {
      console.warn(`  warning: ${r.requests} requests > ${list.length} fresh links: raise MAX_RATE`);
    }
    result = { p50: r.p50, p99: r.p99, non302: r.status, errors: r.errors, total: r.requests };
  } else {
    const next = typeof paths === "function" ? paths : () => paths[0] ?? "/";
    before = cpuSnapshot(stackPid);
    const r = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: seconds,
      headers: host ? { host } : {},
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            path: next(),
            headers: { ...req.headers, "user-agent": UA, "cf-connecting-ip": visitorIp(visitor++) },
          }),
        },
      ],
    });
    const ok = r.statusCodeStats?.["302"]?.count ?? 0;
    result = {
      p50: r.latency.p50,
      p99: r.latency.p99,
      non302: r.requests.total - ok,
      errors: r.errors,
      total: r.requests.total,
    };
  }
  const cpu = cpuPerRequest(before, cpuSnapshot(stackPid), result.total);
  return { ...result, rps: result.total / seconds, cpu };
}

interface ModeResult {
  mode: Mode;
  bare: Result[];
  edge: Result[];
  redirected: number;
  rows: number;
  distinct: number;
  verdicts: string;
  fraudEvents: number;
  /** Requests cut off by the end of a timed load: answered to no one, possibly still recorded. */
  inFlight: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const avg = (rs: Result[], k: "rps" | "p50" | "p99") => rs.reduce((sum, r) => sum + r[k], 0) / rs.length;

function avgCpu(rs: Result[]): [CpuKind, number][] {
  const sums = new Map<CpuKind, number>();
  for (const r of rs) for (const [k, ms] of r.cpu) sums.set(k, (sums.get(k) ?? 0) + ms / rs.length);
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** DB=embedded: no DATABASE_URL, so the stack runs PGlite in its own Node process, as a bare `pnpm dev` does. */
const EMBEDDED = process.env.DB === "embedded";
const withDatabase = <T>(fn: (url: string | undefined) => Promise<T>) =>
  EMBEDDED ? fn(undefined) : withTempDatabase(fn);
if (EMBEDDED) delete process.env.DATABASE_URL;

await withDatabase(async (databaseUrl) => {
  const stackOptions =
    STACK === "dev"
      ? DEV_STACK_OPTIONS
      : { verbose: false, queueBatchTimeout: 0.05, pooler: "auto" as const };
  const stack = await spawnStack({
    stack: {
      ...stackOptions,
      ...(databaseUrl ? { databaseUrl, migrate: false } : { migrate: true }),
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
      // CONSUME=0 (diagnostic): the clicks stay queued, to tell the edge's cost from the consumer's.
      consumeQueues: process.env.CONSUME !== "0",
      extraWorkers: [{ name: "bare", modules: true, script: BARE_WORKER, routes: [`${BARE_HOST}/*`] }],
    },
    fixture: { destinationUrl: "https://example.com/landing?click_id={click_id}&country={country}" },
  });
  const db = nodeDb(stack.databaseUrl);
  const results: ModeResult[] = [];
  try {
    const f = stack.fixture;
    const fresh = () => signedLinkPath(f);
    const clickCount = async () =>
      Number(
        (
          await db
            .selectFrom("clicks")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where("offer_id", "=", f.offer_id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    /** Waits (bounded) until `expected` rows are there and the count has settled. */
    const drained = async (expected: number) => {
      if (process.env.CONSUME === "0") return clickCount();
      const deadline = Date.now() + 120_000;
      let last = -1;
      for (;;) {
        await new Promise((r) => setTimeout(r, 1500));
        const now = await clickCount();
        if ((now >= expected && now === last) || Date.now() > deadline) return now;
        last = now;
      }
    };
    // Warm both isolates (and the edge's link cache) before measuring.
    await load(stack.edgeUrl, BARE_HOST, ["/"], stack.pid, 2);
    await load(stack.edgeUrl, undefined, fresh, stack.pid, 2);
    let base = await drained(0);
    for (const mode of MODES) {
      const since = new Date();
      const replayed = [fresh()];
      const bare: Result[] = [];
      const edge: Result[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        bare.push(await load(stack.edgeUrl, BARE_HOST, ["/"], stack.pid));
        edge.push(await load(stack.edgeUrl, undefined, mode === "replay" ? replayed : fresh, stack.pid));
      }
      const redirected = edge.reduce((sum, r) => sum + r.total - r.non302, 0);
      const total = await drained(base + redirected);
      const rows = total - base;
      base = total;
      const stats = await sql<{ verdict: string; n: string; distinct_ids: string }>`
        SELECT verdict, count(*) AS n, count(DISTINCT click_id) AS distinct_ids FROM clicks
        WHERE offer_id = ${f.offer_id} AND created_at >= ${since} GROUP BY verdict ORDER BY 2 DESC`.execute(
        db,
      );
      const fraud = await sql<{ n: string }>`
        SELECT count(*) AS n FROM fraud_events WHERE offer_id = ${f.offer_id} AND created_at >= ${since}`.execute(
        db,
      );
      results.push({
        mode,
        bare,
        edge,
        redirected,
        rows,
        distinct: stats.rows.reduce((s, r) => s + Number(r.distinct_ids), 0),
        verdicts: stats.rows.map((v) => `${v.verdict}=${v.n}`).join(", "),
        fraudEvents: Number(fraud.rows[0]?.n ?? 0),
        inFlight: edge.length * CONNECTIONS,
      });
    }
  } finally {
    await db.destroy();
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }

  console.log(
    `\nbench/redirect: ${ROUNDS} rounds x ${DURATION}s per worker, ${CONNECTIONS} connections, load generator ${LOADGEN} (own process), ` +
      `stack ${STACK === "dev" ? "as `pnpm dev` starts it" : "quiet (no request logs, 50 ms queue batches)"}; ` +
      `${EMBEDDED ? "embedded PGlite" : stack.pooled ? "Postgres via PgBouncer" : "Postgres, no pooler (apt-get install pgbouncer)"}`,
  );
  for (const r of results) {
    console.log(
      `\n${r.mode === "fresh" ? "fresh signed links, distinct visitors" : "one signed link replayed"}`,
    );
    console.log("  worker        req/s     p50 ms   p99 ms   non-302  errors");
    for (const [label, rs] of [
      ["bare 302", r.bare],
      ["edge", r.edge],
    ] as const) {
      const non302 = rs.reduce((sum, x) => sum + x.non302, 0);
      const errors = rs.reduce((sum, x) => sum + x.errors, 0);
      console.log(
        `  ${label.padEnd(10)} ${fmt(avg(rs, "rps")).padStart(8)} ${fmt(avg(rs, "p50")).padStart(10)} ${fmt(avg(rs, "p99")).padStart(8)} ${String(non302).padStart(9)} ${String(errors).padStart(7)}`,
      );
    }
    console.log(
      `  throughput ratio edge/bare: ${fmt(avg(r.edge, "rps") / avg(r.bare, "rps"), 2)} (goal >= 0.80)` +
        `   rounds: ${r.edge.map((e, i) => fmt(e.rps / (r.bare[i]?.rps ?? 1), 2)).join(", ")}`,
    );
    console.log(
      `  p99 ratio edge/bare:        ${fmt(avg(r.edge, "p99") / Math.max(avg(r.bare, "p99"), 0.001), 2)} (goal <= 1.50)` +
        `   rounds: ${r.edge.map((e, i) => fmt(e.p99 / Math.max(r.bare[i]?.p99 ?? 1, 0.001), 2)).join(", ")}`,
    );
    // workerd runs every isolate on one thread, the bottleneck here: its CPU per request says what
    // the edge costs beside the bare worker with less noise than throughput on a shared machine.
    const workerd = (rs: Result[]) => avgCpu(rs).find(([k]) => k === "workerd")?.[1] ?? 0;
    console.log(
      `  workerd CPU ms per request: bare ${fmt(workerd(r.bare), 3)}, edge ${fmt(workerd(r.edge), 3)}; ` +
        `capacity ratio bare/edge ${fmt(workerd(r.bare) / Math.max(workerd(r.edge), 0.001), 2)}; ` +
        `median round throughput ratio ${fmt(median(r.edge.map((e, i) => e.rps / (r.bare[i]?.rps ?? 1))), 2)}`,
    );
    console.log(`  CPU ms per request, bare: ${formatCpu(avgCpu(r.bare))}`);
    console.log(`  CPU ms per request, edge: ${formatCpu(avgCpu(r.edge))}`);
    const once = r.rows === r.distinct && r.rows >= r.redirected && r.rows <= r.redirected + r.inFlight;
    console.log(
      `  clicks redirected: ${r.redirected}; rows in postgres: ${r.rows} (${r.distinct} distinct click ids; ` +
        `up to ${r.inFlight} more may be requests cut off at the end of a load) -> ${once ? "exactly once" : "MISMATCH"}`,
    );
    console.log(`  verdicts: ${r.verdicts}; fraud events: ${r.fraudEvents}`);
  }
});
