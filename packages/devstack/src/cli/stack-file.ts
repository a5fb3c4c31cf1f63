// Reads .dev/stack.json, written by a running `pnpm dev`.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "../build-workers";

export interface StackFile {
  /** The dashboard (SPA + /api proxy); absent in stack files written before it existed. */
  dashboard_url?: string;
  edge_url: string;
  api_url: string;
  short_link_host: string | null;
  database_url: string;
  redis_rest_url: string;
  redis_rest_token: string;
}

export async function readStackFile(): Promise<StackFile> {
  try {
    const devDir = process.env.DEV_DIR ?? path.join(repoRoot, ".dev");
    return JSON.parse(await readFile(path.join(devDir, "stack.json"), "utf8")) as StackFile;
  } catch {
    console.error("No running stack found (.dev/stack.json). Start one with `pnpm dev` in another terminal.");
    process.exit(1);
  }
}
