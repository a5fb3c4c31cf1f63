// Bundles a worker's TypeScript entry for workerd with esbuild, the way wrangler would: ESM,
// worker export conditions, `cloudflare:*` and `node:*` left to the runtime.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");

export async function bundleWorker(
  entry: string,
  outFile: string,
  alias: Record<string, string> = {},
): Promise<string> {
  await mkdir(path.dirname(outFile), { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser", "import"],
    mainFields: ["workerd", "worker", "browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    alias,
    sourcemap: "linked",
    logLevel: "warning",
    legalComments: "none",
  });
  return outFile;
}
