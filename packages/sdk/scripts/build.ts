// `pnpm sdk:build`: into dist/ (gitignored)
// - afftrack.min.js: the web tracking script, a minified IIFE for a <script> tag;
// - index.js / web.js + types/: the package as published (ESM, openapi-fetch external, .d.ts);
// - afftrack-sdk.min.mjs: the whole SDK bundled and minified for the browser, only to measure it
//   (a Node built-in anywhere in src/ fails this build).
// Prints the minified and gzipped sizes.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export interface BundleSize {
  file: string;
  bytes: number;
  gzip: number;
}

export async function buildBundles(opts: { types?: boolean } = {}): Promise<BundleSize[]> {
  const common = { bundle: true, target: "es2022", platform: "browser", legalComments: "none" } as const;
  await build({
    ...common,
    entryPoints: { index: here("../src/index.ts"), web: here("../src/web/index.ts") },
    outdir: here("../dist"),
    format: "esm",
    external: ["openapi-fetch"],
  });
  if (opts.types) {
    execFileSync("pnpm", ["exec", "tsc", "-p", "tsconfig.build.json"], { cwd: here(".."), stdio: "inherit" });
  }
  const measured = [
    { entry: "../src/web/auto.ts", out: "../dist/afftrack.min.js", format: "iife" as const },
    { entry: "../src/index.ts", out: "../dist/afftrack-sdk.min.mjs", format: "esm" as const },
  ];
  const sizes: BundleSize[] = [];
  for (const t of measured) {
    await build({
      ...common,
      entryPoints: [here(t.entry)],
      outfile: here(t.out),
      minify: true,
      format: t.format,
    });
    const bytes = readFileSync(here(t.out));
    sizes.push({ file: t.out.slice(3), bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const s of await buildBundles({ types: true })) {
    console.log(`${s.file}: ${s.bytes} B minified, ${s.gzip} B gzipped`);
  }
}
