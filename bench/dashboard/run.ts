// Dashboard budgets, measured in Debian's Chromium against the dashboard worker of a local stack:
// 1. the initial JavaScript of the login route and of the home route (every script the page loads
//    before it is idle), gzipped (budget: 150 KB each);
// 2. navigation → the home's KPI cards rendered, over N fresh page loads (p50/p95; budget p95 < 1 s).
// Bounded: N ≤ 30 loads, under a minute. Usage: `pnpm bench:dashboard [N]` (DATABASE_URL/REDIS_URL
// as for `pnpm dev`; embedded engines otherwise) on a fresh network; or on the data of bench/stats:
// `STATS_BENCH_DB=<url of a database bench/stats loaded (KEEP_DB)> pnpm bench:dashboard` starts the
// stack on that database (pending migrations applied, PgBouncer when installed, as `pnpm dev`) and
// logs in as the network admin bench/stats registers for its big network (EMAIL/PASSWORD to
// change; when that login fails, a network admin is added to the network with the most clicks);
// or against a running dashboard: `DASHBOARD_URL=http://127.0.0.1:8789 EMAIL=... PASSWORD=...`.

import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { hashPassword, newId } from "@afftrack/core";
import { sql } from "kysely";
import { chromium, type Page } from "playwright-core";
import { DASHBOARD_WORKER, dashboardWorker } from "../../apps/dashboard/scripts/local-worker";
import { nodeDb } from "../../packages/devstack/src/fixtures";
import { startStack } from "../../packages/devstack/src/stack";

const BUDGET_KB = 150;
const loads = Math.min(30, Math.max(1, Number(process.argv[2] ?? 20)));

const external = process.env.DASHBOARD_URL;
/** A database loaded by bench/stats: its big network's 10 M clicks behind the KPI cards. */
const statsDb = process.env.STATS_BENCH_DB?.trim();
const stack = external
  ? null
  : await startStack({
      extraWorkers: [await dashboardWorker()],
      ...(statsDb
        ? {
            databaseUrl: statsDb,
            redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
            pooler: "auto" as const,
          }
        : {}),
    });
const base = (external ?? (await stack?.mf.unsafeGetDirectURL(DASHBOARD_WORKER))?.toString() ?? "").replace(
  /\/$/,
  "",
);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
  ],
});

/** bench/stats registers this network admin before it loads its network's data. */
const STATS_ADMIN = { email: "bench@example.test", password: "s3cret-passw0rd" };

/**
 * A network admin of the bench/stats network who can log in: bench/stats' own, or (a database
 * loaded without one) a user added here to the network with the most clicks in its daily tier.
 */
async function statsAdmin(url: string): Promise<{ email: string; password: string; dataset: string }> {
  const email = process.env.EMAIL ?? STATS_ADMIN.email;
  const password = process.env.PASSWORD ?? STATS_ADMIN.password;
  const db = nodeDb(url);
  try {
    const login = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    let tenant: string;
    if (login.ok) {
      tenant = ((await login.json()) as { data: { user: { tenant_id: string } } }).data.user.tenant_id;
    } else {
      const biggest = await sql<{ tenant_id: string }>`
        SELECT tenant_id FROM clicks GROUP BY tenant_id ORDER BY count(*) DESC LIMIT 1`.execute(db);
      tenant = biggest.rows[0]?.tenant_id ?? "";
      if (!tenant) throw new Error(`STATS_BENCH_DB has no clicks: load it with bench/stats (KEEP_DB=...)`);
      await sql`
        INSERT INTO users (id, tenant_id, email, password_hash, role, name)
        VALUES (${newId("usr")}, ${tenant}, ${email}, ${await hashPassword(password)}, 'network_admin', 'Dashboard bench')
        ON CONFLICT (lower(email)) DO UPDATE SET password_hash = excluded.password_hash`.execute(db);
      console.log(`added network admin ${email} to ${tenant} (the network with the most clicks)`);
    }
    const clicks = await sql<{
      n: string;
    }>`SELECT count(*)::text AS n FROM clicks WHERE tenant_id = ${tenant}`.execute(db);
    return {
      email,
      password,
      dataset: `network ${tenant} of STATS_BENCH_DB, ${Number(clicks.rows[0]?.n ?? 0).toLocaleString("en-US")} clicks`,
    };
  } finally {
    await db.destroy();
  }
}

try {
  const stats = statsDb && !external ? await statsAdmin(statsDb) : null;
  const email = stats?.email ?? process.env.EMAIL ?? `bench-${randomBytes(4).toString("hex")}@example.test`;
  const password = stats?.password ?? process.env.PASSWORD ?? "bench-passw0rd";
  if (!external && !stats) {
    const reg = await fetch(`${base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ network_name: "Bench", email, password, name: "Bench" }),
    });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  }

  const context = await browser.newContext();
  const page = await context.newPage();

  /** Loads `url` fresh and sums the JS it fetched until the network was idle. */
  async function initialJs(
    p: Page,
    url: string,
    ready: string,
  ): Promise<{ raw: number; gzip: number; files: number }> {
    const bodies: Array<Promise<Buffer>> = [];
    const onResponse = (r: import("playwright-core").Response) => {
      if (r.request().resourceType() !== "script") return;
      if (r.status() === 200) bodies.push(r.body());
      else console.warn(`  (script ${r.url()} answered ${r.status()})`);
    };
    p.on("response", onResponse);
    await p.goto(url, { waitUntil: "networkidle" });
    await p.locator(ready).first().waitFor();
    p.off("response", onResponse);
    const all = await Promise.all(bodies);
    return {
      raw: all.reduce((n, b) => n + b.length, 0),
      gzip: all.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0),
      files: all.length,
    };
  }

  const login = await initialJs(page, `${base}/login`, "input[name=email]");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("kpis").waitFor();
  // A new context (empty HTTP cache) with the same session: the home as a first visit loads it.
  const fresh = await browser.newContext({ storageState: await context.storageState() });
  const home = await initialJs(await fresh.newPage(), `${base}/`, "[data-testid=kpis]");
  await fresh.close();

  const kb = (n: number) => (n / 1024).toFixed(1);
  console.log("initial JavaScript per route (gzip -9 of every script loaded before idle)");
  for (const [name, m] of [
    ["login", login],
    ["home", home],
  ] as const) {
    const verdict = m.gzip / 1024 <= BUDGET_KB ? "within" : "OVER";
    console.log(
      `  ${name.padEnd(6)} ${kb(m.gzip).padStart(6)} KB gzip (${kb(m.raw)} KB raw, ${m.files} files)  ${verdict} the ${BUDGET_KB} KB budget`,
    );
  }

  // Navigation → KPI cards: fresh loads of the home (session in localStorage, cache warm as for a returning user).
  const times: number[] = [];
  /** Where the time goes: each API call the home made before its KPI cards showed, per load. */
  const calls = new Map<string, number[]>();
  const deadline = Date.now() + 45_000;
  for (let i = 0; i < loads && Date.now() < deadline; i++) {
    await page.goto(`${base}/`, { waitUntil: "commit" });
    await page.getByTestId("kpis").waitFor();
    const { now, entries } = await page.evaluate(() => ({
      now: performance.now(),
      entries: performance
        .getEntriesByType("resource")
        .filter((e) => e.name.includes("/api/") && (e as PerformanceResourceTiming).responseEnd > 0)
        .map((e) => ({ name: e.name, ms: (e as PerformanceResourceTiming).responseEnd - e.startTime })),
    }));
    times.push(now);
    for (const e of entries) {
      const u = new URL(e.name);
      const q = u.searchParams;
      const key = `${u.pathname}${q.get("group_by") ? ` by ${q.get("group_by")}` : ""}${q.get("compare") ? ` ${q.get("interval") ?? "day"} vs previous` : ""}${q.get("type") ? ` ${q.get("type")}` : ""}`;
      calls.set(key, [...(calls.get(key) ?? []), e.ms]);
    }
  }
  times.sort((a, b) => a - b);
  const q = (p: number) =>
    times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] ?? Number.NaN;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  console.log("API calls answered by the time the KPI cards were seen (median / max ms, browser-side):");
  for (const [key, ms] of [...calls].sort((a, b) => median(b[1]) - median(a[1]))) {
    console.log(
      `  ${key.padEnd(46)} ${median(ms).toFixed(0).padStart(5)} / ${Math.max(...ms)
        .toFixed(0)
        .padStart(5)}  (${ms.length}×)`,
    );
  }
  console.log(
    `navigation → KPI cards rendered, ${times.length} loads: p50 ${q(50).toFixed(0)} ms, p95 ${q(95).toFixed(0)} ms, max ${q(100).toFixed(0)} ms (budget p95 < 1000 ms; data: ${stats?.dataset ?? (external ? base : "a fresh network")})`,
  );
} finally {
  await browser.close();
  await stack?.close();
}
