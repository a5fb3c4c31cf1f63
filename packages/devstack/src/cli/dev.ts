// `pnpm dev`: the whole platform locally. Starts the stack, prints the URLs and writes
// .dev/stack.json for `pnpm demo`, scripts and tests; stops cleanly on Ctrl-C.

import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { DASHBOARD_WORKER, dashboardWorker } from "../../../../apps/dashboard/scripts/local-worker";
import { repoRoot } from "../build-workers";
import { DEV_STACK_OPTIONS, startStack } from "../stack";

// DEV_DIR moves the stack file and the embedded database (tests run a second stack beside yours).
const devDir = process.env.DEV_DIR ?? path.join(repoRoot, ".dev");
const stackFile = path.join(devDir, "stack.json");

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw ? Number(raw) : fallback;
}

await mkdir(devDir, { recursive: true });
process.env.PGLITE_DIR ??= path.join(devDir, "pglite");

// The dashboard (built first when its sources changed): Workers Static Assets plus a worker that
// hands /api/* to the API worker. 8789 by default; any free port when the other ports were chosen.
const dashboard = await dashboardWorker({
  port: port("DASHBOARD_PORT", process.env.API_PORT ? 0 : 8789),
  quiet: process.env.QUIET === "1",
});

const stack = await startStack({
  extraWorkers: [dashboard],
  edgePort: port("EDGE_PORT", 8787),
  apiPort: port("API_PORT", 8788),
  // PgBouncer, when installed, stands in for Neon's pooled endpoint.
  ...DEV_STACK_OPTIONS,
  verbose: DEV_STACK_OPTIONS.verbose && process.env.QUIET !== "1",
});

const dashboardUrl = (await stack.mf.unsafeGetDirectURL(DASHBOARD_WORKER)).toString().replace(/\/$/, "");

const info = {
  dashboard_url: dashboardUrl,
  edge_url: stack.edgeUrl,
  api_url: stack.apiUrl,
  short_link_host: stack.edgeConfig.vars.SHORT_LINK_HOSTS?.split(",")[0] ?? null,
  database: stack.databaseKind,
  database_url: stack.databaseUrl,
  redis: stack.redisKind,
  redis_rest_url: stack.redisRestUrl,
  redis_rest_token: stack.redisRestToken,
  neon_ws_proxy: stack.wsProxy,
  neon_http_url: stack.neonHttpUrl,
  pid: process.pid,
  started_at: new Date().toISOString(),
};
await writeFile(stackFile, `${JSON.stringify(info, null, 2)}\n`);

const dbLabel =
  stack.databaseKind === "pglite"
    ? "embedded PGlite (.dev/pglite)"
    : stack.pooled
      ? "PostgreSQL via PgBouncer"
      : "PostgreSQL";
const redisLabel = {
  redis: "Redis (REDIS_URL)",
  "redis-server": "redis-server (spawned)",
  embedded: "embedded engine (in-process, not kept across restarts)",
}[stack.redisKind];
console.log(`
afftrack local stack is up
  dashboard          ${dashboardUrl}
  edge (redirects)   ${stack.edgeUrl}      e.g. ${stack.edgeUrl}/c/{tracking_code}.{ts}.{nonce}.{sig}
  api                ${stack.apiUrl}
  postgres           ${dbLabel} via Neon bridge ws://${stack.wsProxy}
  neon sql over http ${stack.neonHttpUrl}
  redis              ${redisLabel} via Upstash gateway ${stack.redisRestUrl}
  stack file         .dev/stack.json
Next: \`pnpm demo\` creates a demo network, offer and link. Ctrl-C stops everything.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await rm(stackFile, { force: true });
  await stack.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
