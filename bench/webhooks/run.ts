// bench/webhooks: conversions at a steady rate with ENDPOINTS webhook endpoints of the advertiser on
// a loopback receiver; prints the time from the postback's 200 to the receiver's first request for
// that conversion (goal p95 < 1 s) and to its last endpoint, and deliveries per second. Figures
// only; 127.0.0.1 only; bounded by DURATION (at most 60 s).
//
//   pnpm exec tsx bench/webhooks/run.ts     (ENDPOINTS=50 RATE=5 DURATION=10)

import { generateSecretKeyEntry, parseSecretKeyring } from "@afftrack/core";
import { createEndpoint } from "@afftrack/db";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { startWebhookReceiver } from "../../tests/webhook-receiver";
import { seedSignatureFields } from "../lib/signing";
import { spawnStack } from "../lib/spawn-stack";
import { fmt, withTempDatabase } from "../lib/temp-database";

const ENDPOINTS = Number(process.env.ENDPOINTS ?? 50);
const RATE = Number(process.env.RATE ?? 5);
const DURATION = Math.min(60, Number(process.env.DURATION ?? 10));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

await withTempDatabase(async (databaseUrl) => {
  const secretsKey = generateSecretKeyEntry("bench");
  const receiver = await startWebhookReceiver();
  const stack = await spawnStack({
    stack: {
      databaseUrl,
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
      migrate: false,
      apiVars: {
        RATE_LIMIT_PER_MINUTE: "100000000",
        RATE_LIMIT_PER_HOUR: "1000000000",
        WEBHOOK_SECRETS_KEY: secretsKey,
      },
    },
  });
  try {
    const f = stack.fixture;
    const db = nodeDb(databaseUrl);
    const caller = {
      tenant_id: f.tenant_id,
      role: "advertiser" as const,
      advertiser_id: f.advertiser_id,
      publisher_id: null,
    };
    const ring = await parseSecretKeyring(secretsKey);
    for (let i = 0; i < ENDPOINTS; i++) {
      await createEndpoint(
        db,
        caller,
        "webhook",
        { url: receiver.url(`e${i}`), events: ["conversion.created"] },
        ring,
      );
    }
    await db.destroy();

    const answeredAt = new Map<string, number>();
    const firstAt = new Map<string, number>();
    const countOf = new Map<string, number>();
    const lastAt = new Map<string, number>();
    let deliveries = 0;
    let firstDelivery = Number.NaN;
    let lastDelivery = Number.NaN;
    receiver.onRequest = (_name, req) => {
      const at = performance.now();
      const id = (JSON.parse(req.body) as { data?: { conversion_id?: string } }).data?.conversion_id ?? "";
      deliveries++;
      if (Number.isNaN(firstDelivery)) firstDelivery = at;
      lastDelivery = at;
      if (!firstAt.has(id)) firstAt.set(id, at);
      const n = (countOf.get(id) ?? 0) + 1;
      countOf.set(id, n);
      if (n === ENDPOINTS) lastAt.set(id, at);
    };

    const post = async (n: number) => {
      const res = await fetch(`${stack.apiUrl}/api/postback`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": f.api_key },
        body: JSON.stringify({
          api_key: f.api_key,
          advertiser_id: f.advertiser_id,
          offer_id: f.offer_id,
          transaction_id: `txn_bench_${Date.now()}_${n}`,
          amount: 10,
          currency: "USD",
          status: "approved",
          ...seedSignatureFields(f),
        }),
      });
      const at = performance.now();
      const body = (await res.json()) as { data?: { conversion_id?: string } };
      if (res.status === 200 && body.data?.conversion_id) answeredAt.set(body.data.conversion_id, at);
      return res.status;
    };
    // Warm-up, not measured.
    for (let i = 0; i < 3; i++) await post(-i - 1);
    await new Promise((r) => setTimeout(r, 2000));
    answeredAt.clear();
    deliveries = 0;
    firstDelivery = Number.NaN;
    console.log(`${ENDPOINTS} endpoints; ${RATE} conversions/s for ${DURATION} s`);

    const statuses: Record<string, number> = {};
    const pending: Promise<void>[] = [];
    const total = RATE * DURATION;
    const started = performance.now();
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        post(n)
          .then((s) => {
            statuses[s] = (statuses[s] ?? 0) + 1;
          })
          .catch(() => {
            statuses.error = (statuses.error ?? 0) + 1;
          }),
      );
    }
    await Promise.all(pending);
    // Stragglers, bounded.
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline && [...answeredAt.keys()].some((id) => !lastAt.has(id))) {
      await new Promise((r) => setTimeout(r, 100));
    }

    const first: number[] = [];
    const all: number[] = [];
    for (const [id, t] of answeredAt) {
      const f1 = firstAt.get(id);
      const fl = lastAt.get(id);
      if (f1 !== undefined) first.push(Math.max(0, f1 - t));
      if (fl !== undefined) all.push(Math.max(0, fl - t));
    }
    first.sort((a, b) => a - b);
    all.sort((a, b) => a - b);
    const window = (lastDelivery - firstDelivery) / 1000;
    console.log(`postbacks: ${total}, statuses ${JSON.stringify(statuses)}`);
    console.log(
      `200 → first request ms: p50 ${fmt(percentile(first, 50))}  p95 ${fmt(percentile(first, 95))}  p99 ${fmt(percentile(first, 99))}  (${first.length} conversions)`,
    );
    console.log(
      `200 → all ${ENDPOINTS} endpoints ms: p50 ${fmt(percentile(all, 50))}  p95 ${fmt(percentile(all, 95))}  (${all.length} complete)`,
    );
    console.log(
      `deliveries: ${deliveries} of ${total * ENDPOINTS} in ${fmt(window)} s (${fmt(deliveries / window)}/s)`,
    );
  } finally {
    await stack.stop();
    await receiver.close();
  }
});
