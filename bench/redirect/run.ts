// bench/redirect: throughput and latency of the edge redirect against a bare 302 worker in the
// same Miniflare (same entry path, same load generator), with the full local stack behind the
// edge: Upstash gateway on the real Redis, the clicks queue and its consumer writing to Postgres.
// Every request carries a fresh signed link and a distinct visitor IP, so each one is a valid
// click that burns a nonce, sets a dedupe key and is queued. Prints figures and ratios only.
//
//   pnpm bench:redirect            (DURATION=10 CONNECTIONS=32 ROUNDS=2 to change)

import autocannon from "autocannon";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { signedLinkPath } from "../lib/signing";
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

/** Visitor counter across all loads, so no two edge requests share an IP (no dedupe hits). */
let counter = 0;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non302: number;
  /** Counts of answers other than 302, by status, and transport errors. */
  codes: Record<string, number>;
  errors: number;
  total: number;
}

async function load(
  url: string,
  host: string | undefined,
  nextPath: () => string,
  seconds = DURATION,
): Promise<Result> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
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
    codes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {})
        .filter(([code]) => code !== "302")
        .map(([code, stat]) => [code, stat?.count ?? 0]),
    ),
    errors: result.errors,
    total,
  };
}

interface Scenario {
  pooled: boolean;
  name: string;
  bare: Result[];
  edge: Result[];
  redirected: number;
  rows: number | null;
  verdicts: string;
}

const avg = (rs: Result[], k: "rps" | "p50" | "p99") => rs.reduce((sum, r) => sum + r[k], 0) / rs.length;

/** One stack, alternating bare and edge rounds on it. */
async function scenario(name: string, databaseUrl: string, consumeQueues: boolean): Promise<Scenario> {
  const stack = await spawnStack({
    stack: {
      databaseUrl,
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
      migrate: false,
      consumeQueues,
      pooler: "auto",
      extraWorkers: [{ name: "bare", modules: true, script: BARE_WORKER, routes: [`${BARE_HOST}/*`] }],
    },
    fixture: { destinationUrl: "https://example.com/landing?click_id={click_id}&country={country}" },
  });
  const db = nodeDb(databaseUrl);
  try {
    const f = stack.fixture;
    const signed = () => signedLinkPath(f);
    const countRows = async () =>
      Number(
        (
          await db
            .selectFrom("clicks")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where("offer_id", "=", f.offer_id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    // Warm both isolates (and the edge's link cache) before measuring.
    await load(stack.edgeUrl, BARE_HOST, () => "/", 2);
    await load(stack.edgeUrl, undefined, signed, 2);
    const warmupRedirects = await countRowsWhenDrained(consumeQueues, countRows);
    const bare: Result[] = [];
    const edge: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await load(stack.edgeUrl, BARE_HOST, () => "/"));
      edge.push(await load(stack.edgeUrl, undefined, signed));
    }
    const redirected = edge.reduce((sum, r) => sum + r.total - r.non302, 0);
    let rows: number | null = null;
    let verdicts = "consumer detached: clicks stay queued";
    if (consumeQueues) {
      // No lost clicks: wait (bounded) for the consumer to drain the queue.
      const deadline = Date.now() + 120_000;
      do {
        rows = (await countRows()) - warmupRedirects;
        if (rows >= redirected) break;
        await new Promise((r) => setTimeout(r, 250));
      } while (Date.now() < deadline);
      const byVerdict = await db
        .selectFrom("clicks")
        .select(["verdict", (eb) => eb.fn.countAll<string>().as("n")])
        .where("offer_id", "=", f.offer_id)
        .groupBy("verdict")
        .execute();
      verdicts = byVerdict.map((v) => `${v.verdict}=${v.n}`).join(", ");
    }
    return { name, pooled: stack.pooled, bare, edge, redirected, rows, verdicts };
  } finally {
    await db.destroy();
    await stack.stop();
  }
}

/** Rows written for the warm-up, once the queue is drained (0 without a consumer). */
async function countRowsWhenDrained(
  consumeQueues: boolean,
  countRows: () => Promise<number>,
): Promise<number> {
  if (!consumeQueues) return 0;
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await countRows();
    if (now === last) return now;
    last = now;
  }
}

await withTempDatabase(async (databaseUrl) => {
  // The consumer stays attached: detached, Miniflare's queue broker holds an ever-growing backlog
  // in memory, which slows the edge and makes that figure misleading.
  const results = [
    await scenario(
      "whole pipeline on this machine (edge, queue, consumer, Redis, Postgres)",
      databaseUrl,
      true,
    ),
  ];
  console.log(
    `\nbench/redirect: ${ROUNDS} rounds x ${DURATION}s per worker, ${CONNECTIONS} connections, one Miniflare`,
  );
  for (const r of results) {
    console.log(
      `\n${r.name}; ${r.pooled ? "Postgres via PgBouncer" : "no pooler (apt-get install pgbouncer)"}`,
    );
    console.log("  worker        req/s     p50 ms   p99 ms   non-302");
    for (const [label, rs] of [
      ["bare 302", r.bare],
      ["edge", r.edge],
    ] as const) {
      const non302 = rs.reduce((sum, x) => sum + x.non302, 0);
      console.log(
        `  ${label.padEnd(10)} ${fmt(avg(rs, "rps")).padStart(8)} ${fmt(avg(rs, "p50")).padStart(10)} ${fmt(avg(rs, "p99")).padStart(8)} ${String(non302).padStart(9)}`,
      );
    }
    console.log(
      `  throughput ratio edge/bare: ${fmt(avg(r.edge, "rps") / avg(r.bare, "rps"), 2)} (goal >= 0.80)`,
    );
    console.log(
      `  p99 ratio edge/bare:        ${fmt(avg(r.edge, "p99") / Math.max(avg(r.bare, "p99"), 0.001), 2)} (goal <= 1.50)`,
    );
    const odd = r.edge
      .filter((x) => x.non302 > 0)
      .map((x) => JSON.stringify({ ...x.codes, errors: x.errors }));
    if (odd.length > 0) console.log(`  edge answers other than 302: ${odd.join(" ")}`);
    console.log(`  clicks redirected: ${r.redirected}; rows in postgres: ${r.rows ?? "n/a"} (${r.verdicts})`);
  }
});
