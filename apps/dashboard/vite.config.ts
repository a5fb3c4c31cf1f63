// The dashboard's build: a Preact SPA bundled by Vite into dist/, served as Workers Static Assets
// (apps/dashboard/wrangler.toml). `pnpm dashboard:dev` proxies /api and /w to the running `pnpm dev`.

import { readFileSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "vite";

function apiTarget(): string {
  try {
    const stack = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, "../../.dev/stack.json"), "utf8"),
    );
    return String(stack.api_url);
  } catch {
    return "http://127.0.0.1:8788";
  }
}

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "/api": { target: apiTarget(), changeOrigin: true, ws: true },
      "/w": { target: apiTarget(), changeOrigin: true, ws: true },
    },
  },
});
