// Dashboard budgets, measured in Debian's Chromium against the dashboard worker of a local stack:
// 1. the initial JavaScript of the login route and of the home route (every script the page loads
//    before it is idle), gzipped (budget: 150 KB each);
// 2. navigation → the home's KPI cards rendered, over N fresh page loads (p50/p95; budget p95 < 1 s).
// Bounded: N ≤ 30 loads, under a minute. Usage: `pnpm bench:dashboard [N]` (DATABASE_URL/REDIS_URL
// as for `pnpm dev`; embedded engines otherwise) on a fresh network; or against a running dashboard
// and its data (e.g. `pnpm dev` on a database loaded by bench/stats):
// `DASHBOARD_URL=http://127.0.0.1:8789 EMAIL=... PASSWORD=... pnpm bench:dashboard`.

import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { chromium, type Page } from "playwright-core";
import { DASHBOARD_WORKER, dashboardWorker } from "../../apps/dashboard/scripts/local-worker";
import { startStack } from "../../packages/devstack/src/stack";

const BUDGET_KB = 150;
const loads = Math.min(30, Math.max(1, Number(process.argv[2] ?? 20)));

const external = process.env.DASHBOARD_URL;
const stack = external ? null : await startStack({ extraWorkers: [await dashboardWorker()] });
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

try {
  const email = process.env.EMAIL ?? `bench-${randomBytes(4).toString("hex")}@example.test`;
  const password = process.env.PASSWORD ?? "bench-passw0rd";
  if (!external) {
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
  const deadline = Date.now() + 45_000;
  for (let i = 0; i < loads && Date.now() < deadline; i++) {
    await page.goto(`${base}/`, { waitUntil: "commit" });
    await page.getByTestId("kpis").waitFor();
    times.push(await page.evaluate(() => performance.now()));
  }
  times.sort((a, b) => a - b);
  const q = (p: number) =>
    times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] ?? Number.NaN;
  console.log(
    `navigation → KPI cards rendered, ${times.length} loads: p50 ${q(50).toFixed(0)} ms, p95 ${q(95).toFixed(0)} ms, max ${q(100).toFixed(0)} ms (budget p95 < 1000 ms; data: ${external ? base : "a fresh network"})`,
  );
} finally {
  await browser.close();
  await stack?.close();
}
