// Builds the dashboard (Vite) when dist/ is missing or older than its sources: a hash of every
// source file is kept in dist/.build-hash, so a fresh clone, an edit or a branch switch rebuilds
// and an unchanged tree costs one hash (~ms). Used by `pnpm dashboard:build`, `pnpm dev` and tests.
// Run directly: `tsx apps/dashboard/scripts/build.ts [--force]`.

import { createHash } from "node:crypto";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export const dashboardDir = path.resolve(import.meta.dirname, "..");
export const dashboardDist = path.join(dashboardDir, "dist");
const HASH_FILE = path.join(dashboardDist, ".build-hash");

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** A hash over the sources the build reads (and the SDK it bundles). */
export async function sourceHash(): Promise<string> {
  const files = [
    ...(await filesUnder(path.join(dashboardDir, "src"))),
    ...(await filesUnder(path.resolve(dashboardDir, "../../packages/sdk/src"))),
    path.join(dashboardDir, "index.html"),
    path.join(dashboardDir, "vite.config.ts"),
    path.join(dashboardDir, "package.json"),
  ].sort();
  const h = createHash("sha256");
  for (const f of files) {
    h.update(path.relative(dashboardDir, f));
    h.update(await readFile(f));
  }
  return h.digest("hex");
}

/** Builds unless dist/ matches the sources; returns whether it built. */
export async function ensureDashboardBuilt(
  opts: { force?: boolean; quiet?: boolean } = {},
): Promise<boolean> {
  const hash = await sourceHash();
  if (!opts.force) {
    const built = await readFile(HASH_FILE, "utf8").catch(() => "");
    if (built.trim() === hash) return false;
  }
  // Built beside dist/ and swapped in, so a concurrent build (two test files, `pnpm dev`) or a
  // server reading dist/ never sees a half-written folder.
  const tmp = `${dashboardDist}.tmp-${process.pid}-${Date.now()}`;
  const { build } = await import("vite");
  await build({
    configFile: path.join(dashboardDir, "vite.config.ts"),
    logLevel: opts.quiet ? "warn" : "info",
    build: { outDir: tmp, emptyOutDir: true },
  });
  await writeFile(path.join(tmp, ".build-hash"), `${hash}\n`);
  if ((await readFile(HASH_FILE, "utf8").catch(() => "")).trim() === hash) {
    await rm(tmp, { recursive: true, force: true });
    return true;
  }
  const old = `${dashboardDist}.old-${process.pid}-${Date.now()}`;
  await rename(dashboardDist, old).catch(() => undefined);
  await rename(tmp, dashboardDist);
  await rm(old, { recursive: true, force: true });
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const started = Date.now();
  const built = await ensureDashboardBuilt({ force: process.argv.includes("--force") });
  console.log(
    built
      ? `dashboard built in ${Date.now() - started} ms (apps/dashboard/dist)`
      : "dashboard is up to date (apps/dashboard/dist)",
  );
}
