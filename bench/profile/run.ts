// bench/profile: a CPU profile of one worker under load, through Miniflare's DevTools inspector.
// Prints the functions with the most self time, grouped by bundle-relative source. For finding
// where a benchmark's time goes; it measures nothing by itself.
//
//   pnpm exec tsx bench/profile/run.ts postback     (or: redirect)   SECONDS=8 PROFILE_WORKER=api
//   LINKS=replay (redirect: one signed link replayed instead of fresh ones)

import autocannon from "autocannon";
import WebSocket from "ws";
import { createFixture, nodeDb } from "../../packages/devstack/src/fixtures";
import { startStack } from "../../packages/devstack/src/stack";
import { seedSignatureFields, signedLinkPath } from "../lib/signing";
import { withTempDatabase } from "../lib/temp-database";

const target = process.argv[2] === "redirect" ? "redirect" : "postback";
const SECONDS = Number(process.env.SECONDS ?? 8);
const INSPECTOR_PORT = 9329;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function devtools(url: string) {
  const ws = new WebSocket(url);
  let id = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  const ready = new Promise((r) => ws.once("open", r));
  return {
    ready,
    send: (method: string, params: object = {}) =>
      new Promise<unknown>((resolve) => {
        const n = ++id;
        waiting.set(n, resolve);
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}

await withTempDatabase(async (databaseUrl) => {
  const stack = await startStack({
    databaseUrl,
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
    migrate: false,
    pooler: "auto",
    inspectorPort: INSPECTOR_PORT,
    apiVars: { RATE_LIMIT_PER_MINUTE: "100000000", RATE_LIMIT_PER_HOUR: "1000000000" },
  });
  const db = nodeDb(databaseUrl);
  try {
    const f = await createFixture(db);
    let seq = 0;
    const postback = () => {
      const { timestamp, nonce, signature } = seedSignatureFields(f);
      return JSON.stringify({
        api_key: f.api_key,
        advertiser_id: f.advertiser_id,
        offer_id: f.offer_id,
        transaction_id: `txn_${seq++}`,
        amount: 29.99,
        timestamp,
        nonce,
        signature,
      });
    };
    // LINKS=replay: one signed link replayed (its first use counts, the rest are recorded as replays).
    const replayed = signedLinkPath(f);
    const signed = () => (process.env.LINKS === "replay" ? replayed : signedLinkPath(f));
    const fire = (seconds: number) =>
      target === "postback"
        ? autocannon({
            url: `${stack.apiUrl}/api/postback`,
            method: "POST",
            connections: 16,
            duration: seconds,
            headers: { "content-type": "application/json" },
            requests: [{ setupRequest: (req) => ({ ...req, body: postback() }) }],
          })
        : autocannon({
            url: stack.edgeUrl,
            connections: 16,
            duration: seconds,
            requests: [
              {
                setupRequest: (req) => ({
                  ...req,
                  path: signed(),
                  headers: { "cf-connecting-ip": `10.9.${(seq >> 8) & 255}.${seq++ & 255}` },
                }),
              },
            ],
          });
    await fire(2);
    // PROFILE_WORKER=api profiles the API worker (e.g. the click consumer during redirect load).
    const worker =
      target === "postback" || process.env.PROFILE_WORKER === "api"
        ? stack.apiConfig.name
        : stack.edgeConfig.name;
    const dt = devtools(`ws://127.0.0.1:${INSPECTOR_PORT}/core:user:${worker}`);
    await dt.ready;
    await dt.send("Profiler.enable");
    await dt.send("Profiler.setSamplingInterval", { interval: 200 });
    await dt.send("Profiler.start");
    const result = await fire(SECONDS);
    const { profile } = (await dt.send("Profiler.stop")) as { profile: { nodes: ProfileNode[] } };
    dt.close();
    const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const byFn = new Map<string, number>();
    const byFile = new Map<string, number>();
    for (const n of profile.nodes) {
      const hits = n.hitCount ?? 0;
      if (!hits) continue;
      const where = n.callFrame.url.split("/").slice(-1)[0] || "(native)";
      const key = `${n.callFrame.functionName || "(anon)"} ${where}:${n.callFrame.lineNumber + 1}`;
      byFn.set(key, (byFn.get(key) ?? 0) + hits);
      byFile.set(where, (byFile.get(where) ?? 0) + hits);
    }
    console.log(`${target}: ${(result.requests.total / SECONDS).toFixed(0)} req/s; ${total} samples`);
    for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
      console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
    }
    // Inclusive time (self + callees; each function counted once per stack), for "what does the
    // whole of X cost": the request handler vs queue consumers, say. INCLUSIVE=0 to skip.
    if (process.env.INCLUSIVE !== "0") {
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const inclusive = new Map<string, number>();
      const walk = (id: number, onStack: Set<string>): number => {
        const n = byId.get(id);
        if (!n) return 0;
        const where = n.callFrame.url.split("/").slice(-1)[0] || "(native)";
        const key = `${n.callFrame.functionName || "(anon)"} ${where}:${n.callFrame.lineNumber + 1}`;
        const fresh = !onStack.has(key);
        if (fresh) onStack.add(key);
        let hits = n.hitCount ?? 0;
        for (const child of n.children ?? []) hits += walk(child, onStack);
        if (fresh) {
          onStack.delete(key);
          inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
        }
        return hits;
      };
      const root = profile.nodes[0];
      if (root) walk(root.id, new Set());
      console.log("\ninclusive (self + callees):");
      for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
        console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
      }
    }
  } finally {
    await db.destroy();
    await stack.close();
  }
});
