// bench/redirect: throughput and latency of the edge redirect against a bare 302 worker in the
// same Miniflare (same entry path, same load generator), with the full local stack behind the
// edge: Upstash gateway on the real Redis, the clicks queue and its consumer writing to Postgres.
// Every request carries a fresh signed link and a distinct visitor IP, so each one is a valid
// click that burns a nonce, sets a dedupe key and is queued. Prints figures and ratios only.
//
//   pnpm bench:redirect            (DURATION=10 CONNECTIONS=32 ROUNDS=2 to change)

import { createHmac, randomBytes } from "node:crypto";
import autocannon from "autocannon";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { spawnStack } from "../lib/spawn-stack";
import { fmt, withTempDatabase } from "../lib/temp-database";

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const BARE_HOST = "bare.bench.local";

const BARE_WORKER = `export default {
  fetch() {
    return new Response(null, { status: 302, headers: { location: "https://example.com/landing" } });
  },
};`;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non302: number;
  total: number;
}

async function load(url: string, host: string | undefined, nextPath: () => string): Promise<Result> {
  let counter = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: host ? { host } : {},
    requests: [
      {
        setupRequest: (req) => {
          counter++;
          return {
            ...req,
            path: nextPath(),
            headers: {
              ...req.headers,
              "user-agent":
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
              "cf-connecting-ip": `10.${(counter >> 16) & 255}.${(counter >> 8) & 255}.${counter & 255}`,
            },
          };
        },
      },
    ],
  });
  const total = result.requests.total;
  const ok = result.statusCodeStats?.["302"]?.count ?? 0;
  return {
    rps: total / DURATION,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non302: total - ok,
    total,
  };
}

await withTempDatabase(async (databaseUrl) => {
  const stack = await spawnStack({
    stack: {
      databaseUrl,
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
      migrate: false,
      extraWorkers: [{ name: "bare", modules: true, script: BARE_WORKER, routes: [`${BARE_HOST}/*`] }],
    },
    fixture: { destinationUrl: "https://example.com/landing?click_id={click_id}&country={country}" },
  });
  const db = nodeDb(databaseUrl);
  try {
    const f = stack.fixture;
    const signed = () => {
      const ts = Date.now();
      const nonce = randomBytes(16).toString("hex");
      const sig = createHmac("sha256", f.link_secret)
        .update(`${f.tracking_code}.${ts}.${nonce}`)
        .digest("hex")
        .slice(0, 16);
      return `/c/${f.tracking_code}.${ts}.${nonce}.${sig}`;
    };
    // Warm both isolates (and the edge's link cache) before measuring.
    await load(stack.edgeUrl, BARE_HOST, () => "/").catch(() => undefined);
    const bare: Result[] = [];
    const edge: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await load(stack.edgeUrl, BARE_HOST, () => "/"));
      edge.push(await load(stack.edgeUrl, undefined, signed));
    }
    const avg = (rs: Result[], k: keyof Result) => rs.reduce((s, r) => s + r[k], 0) / rs.length;
    const redirected = edge.reduce((s, r) => s + r.total - r.non302, 0);

    // No lost clicks: wait (bounded) for the consumer to drain the queue.
    const deadline = Date.now() + 60_000;
    let rows = 0;
    while (Date.now() < deadline) {
      rows = Number(
        (
          await db
            .selectFrom("clicks")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
      if (rows >= redirected) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const verdicts = await db
      .selectFrom("clicks")
      .select(["verdict", (eb) => eb.fn.countAll<string>().as("n")])
      .groupBy("verdict")
      .execute();

    console.log(
      `\nbench/redirect: ${ROUNDS} rounds x ${DURATION}s, ${CONNECTIONS} connections, one Miniflare`,
    );
    console.log("worker        req/s      p50 ms   p99 ms   non-302");
    for (const [name, rs] of [
      ["bare 302", bare],
      ["edge", edge],
    ] as const) {
      console.log(
        `${name.padEnd(12)} ${fmt(avg(rs, "rps")).padStart(8)} ${fmt(avg(rs, "p50")).padStart(10)} ${fmt(avg(rs, "p99")).padStart(8)} ${String(rs.reduce((s, r) => s + r.non302, 0)).padStart(9)}`,
      );
    }
    console.log(`throughput ratio edge/bare: ${fmt(avg(edge, "rps") / avg(bare, "rps"), 2)} (goal >= 0.80)`);
    console.log(
      `p99 ratio edge/bare:        ${fmt(avg(edge, "p99") / Math.max(avg(bare, "p99"), 0.001), 2)} (goal <= 1.50)`,
    );
    console.log(
      `clicks redirected: ${redirected}, rows in postgres: ${rows} (${verdicts.map((v) => `${v.verdict}=${v.n}`).join(", ")})`,
    );
  } finally {
    await db.destroy();
    await stack.stop();
  }
});
