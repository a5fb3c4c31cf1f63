// The dashboard worker for the local stack (Miniflare), from apps/dashboard/wrangler.toml: its
// script bundled like wrangler would, its [assets] block turned into Miniflare's `assets` option.
// Add it with `startStack({ extraWorkers: [await dashboardWorker(...)] })`; the API worker is in the
// same Miniflare, so the service binding works as in production.

import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import type { WorkerOptions } from "miniflare";
import { parse } from "smol-toml";
import { dashboardDir, ensureDashboardBuilt } from "./build";

export const DASHBOARD_WORKER = "afftrack-dashboard";

interface DashboardToml {
  name: string;
  main: string;
  compatibility_date: string;
  assets: {
    directory: string;
    not_found_handling?: "single-page-application" | "404-page" | "none";
    run_worker_first?: string[];
  };
  services?: Array<{ binding: string; service: string }>;
}

/** Builds the SPA if stale, bundles the worker and returns its Miniflare options (listening on `port`, 0 = any). */
export async function dashboardWorker(opts: { port?: number; quiet?: boolean } = {}): Promise<WorkerOptions> {
  await ensureDashboardBuilt({ quiet: opts.quiet ?? true });
  const toml = parse(
    await readFile(path.join(dashboardDir, "wrangler.toml"), "utf8"),
  ) as unknown as DashboardToml;
  const outDir = await mkdtemp(path.join(tmpdir(), "afftrack-dashboard-"));
  const scriptPath = path.join(outDir, "worker.js");
  await build({
    entryPoints: [path.resolve(dashboardDir, toml.main)],
    outfile: scriptPath,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "warning",
  });
  return {
    name: toml.name,
    modules: true,
    scriptPath,
    modulesRoot: outDir,
    compatibilityDate: toml.compatibility_date,
    assets: {
      directory: path.resolve(dashboardDir, toml.assets.directory),
      routerConfig: {
        has_user_worker: true,
        invoke_user_worker_ahead_of_assets: false,
        static_routing: { user_worker: toml.assets.run_worker_first ?? [] },
      },
      assetConfig: { not_found_handling: toml.assets.not_found_handling ?? "single-page-application" },
    },
    serviceBindings: Object.fromEntries((toml.services ?? []).map((s) => [s.binding, s.service])),
    unsafeDirectSockets: [{ host: "127.0.0.1", port: opts.port ?? 0 }],
  };
}
