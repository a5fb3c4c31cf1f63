// bench/widget: time from the tracker POST to the WebSocket message in connected widgets, with
// WIDGETS widget sockets (spread over INFLUENCERS influencers of one product) and RATE postbacks
// per second for DURATION seconds, through the local stack (API worker and widget channels in
// Miniflare, Postgres through the local Neon endpoint). Prints figures only; 127.0.0.1 only;
// bounded by DURATION (at most 60 s).
//
//   pnpm exec tsx bench/widget/run.ts     (WIDGETS=200 INFLUENCERS=20 RATE=100 DURATION=10)

import { createTrackerAccessKey, createTrackerCustomer, createTrackerProduct } from "@afftrack/db";
import WebSocket from "ws";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { spawnStack } from "../lib/spawn-stack";
import { fmt, withTempDatabase } from "../lib/temp-database";

const WIDGETS = Number(process.env.WIDGETS ?? 200);
const INFLUENCERS = Math.max(1, Math.min(WIDGETS, Number(process.env.INFLUENCERS ?? 20)));
const RATE = Number(process.env.RATE ?? 100);
const DURATION = Math.min(60, Number(process.env.DURATION ?? 10));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

await withTempDatabase(async (databaseUrl) => {
  const stack = await spawnStack({
    stack: { databaseUrl, redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0", migrate: false },
  });
  const sockets: WebSocket[] = [];
  try {
    const db = nodeDb(databaseUrl);
    const tenant = stack.fixture.tenant_id;
    const customer = await createTrackerCustomer(db, tenant, { name: "Bench", customer_code: "bench" });
    await createTrackerProduct(db, tenant, { customer_id: customer.id, code: "product", name: "Bench" });
    const { key } = await createTrackerAccessKey(db, tenant, customer.id);
    await db.destroy();

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let received = 0;
    const wsBase = stack.apiUrl.replace(/^http/, "ws");
    for (let i = 0; i < WIDGETS; i++) {
      // No permessage-deflate: an OBS browser source negotiates it, but 200 zlib contexts in one
      // Node process would measure the load generator, not the widget channel.
      const ws = new WebSocket(`${wsBase}/w/bench/product/inf_${i % INFLUENCERS}/ws`, {
        perMessageDeflate: false,
      });
      ws.on("message", (data) => {
        const at = performance.now();
        const text = data.toString();
        if (text === "pong") return;
        const msg = JSON.parse(text) as { event?: { event_name?: string } };
        const sent = sentAt.get(msg.event?.event_name ?? "");
        if (sent !== undefined) {
          latencies.push(at - sent);
          received++;
        }
      });
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      sockets.push(ws);
    }
    console.log(
      `${WIDGETS} widgets connected over ${INFLUENCERS} influencers; ${RATE} postbacks/s for ${DURATION} s`,
    );

    // Warm-up: one postback per influencer (isolate caches, channel objects), not measured.
    for (let i = 0; i < INFLUENCERS; i++) {
      await fetch(`${stack.apiUrl}/t/${key}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ influencer_id: `inf_${i}`, product: "product", event_name: "warmup" }),
      });
    }
    await new Promise((r) => setTimeout(r, 500));

    const postLatencies: number[] = [];
    const statuses: Record<string, number> = {};
    const pending: Promise<void>[] = [];
    const total = RATE * DURATION;
    const started = performance.now();
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const name = `b${n}`;
      const t0 = performance.now();
      sentAt.set(name, t0);
      pending.push(
        fetch(`${stack.apiUrl}/t/${key}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            influencer_id: `inf_${n % INFLUENCERS}`,
            product: "product",
            event_name: name,
          }),
        })
          .then(async (res) => {
            await res.arrayBuffer();
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            postLatencies.push(performance.now() - t0);
          })
          .catch(() => {
            statuses.error = (statuses.error ?? 0) + 1;
          }),
      );
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 2000)); // stragglers

    const expected = total * (WIDGETS / INFLUENCERS);
    latencies.sort((a, b) => a - b);
    postLatencies.sort((a, b) => a - b);
    console.log(
      `postbacks: ${total} in ${fmt(elapsed)} s (${fmt(total / elapsed)}/s), statuses ${JSON.stringify(statuses)}`,
    );
    console.log(
      `POST answer ms: p50 ${fmt(percentile(postLatencies, 50))}  p95 ${fmt(percentile(postLatencies, 95))}  p99 ${fmt(percentile(postLatencies, 99))}`,
    );
    console.log(`widget messages: ${received} of ${expected} expected`);
    console.log(
      `POST → widget message ms: p50 ${fmt(percentile(latencies, 50))}  p95 ${fmt(percentile(latencies, 95))}  p99 ${fmt(percentile(latencies, 99))}  max ${fmt(latencies[latencies.length - 1] ?? Number.NaN)}`,
    );
  } finally {
    for (const ws of sockets) ws.close();
    await stack.stop();
  }
});
