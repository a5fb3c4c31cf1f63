// The dashboard's build and deploy config: `ensureDashboardBuilt` produces dist/ with an index.html
// whose scripts exist, skips the build when nothing changed, and `wrangler deploy --dry-run`
// accepts apps/dashboard/wrangler.toml (assets directory + the API service binding).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../packages/devstack/src/build-workers";
import { dashboardDist, ensureDashboardBuilt, sourceHash } from "../scripts/build";

describe("dashboard build", () => {
  it("builds dist/ for the current sources, then skips while nothing changed", async () => {
    await ensureDashboardBuilt({ quiet: true });
    const html = await readFile(path.join(dashboardDist, "index.html"), "utf8");
    const scripts = [...html.matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1] ?? "");
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(existsSync(path.join(dashboardDist, s))).toBe(true);
    expect((await readFile(path.join(dashboardDist, ".build-hash"), "utf8")).trim()).toBe(await sourceHash());
    const started = Date.now();
    expect(await ensureDashboardBuilt({ quiet: true })).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 120_000);

  it("wrangler deploy --dry-run accepts the dashboard worker with its assets and API binding", async () => {
    await ensureDashboardBuilt({ quiet: true });
    const outdir = await mkdtemp(path.join(tmpdir(), "afftrack-dashboard-deploy-"));
    try {
      const { stdout } = await promisify(execFile)(
        path.join(repoRoot, "node_modules/.bin/wrangler"),
        ["deploy", "--dry-run", "--outdir", outdir, "-c", "apps/dashboard/wrangler.toml"],
        { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
      );
      expect(stdout).toMatch(/Read \d+ files from the assets directory/);
      expect(stdout).toContain("env.API (afftrack-api)");
      expect(stdout).toContain("--dry-run: exiting now.");
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
