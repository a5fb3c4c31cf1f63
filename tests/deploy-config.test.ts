// Both workers bundle for `wrangler deploy` from their real configs (dry run: nothing is
// uploaded), with the bindings the README's deploy steps create.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../packages/devstack/src/build-workers";

const wrangler = path.join(repoRoot, "node_modules/.bin/wrangler");

async function dryRun(config: string): Promise<string> {
  const outdir = await mkdtemp(path.join(tmpdir(), "afftrack-deploy-"));
  try {
    const { stdout } = await promisify(execFile)(
      wrangler,
      ["deploy", "--dry-run", "--outdir", outdir, "-c", config],
      {
        cwd: repoRoot,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      },
    );
    return stdout;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

describe("wrangler deploy --dry-run", () => {
  it("bundles the edge worker with its queue producer and the API's EdgeService binding", async () => {
    const out = await dryRun("wrangler.toml");
    expect(out).toContain("env.CLICKS (clicks)");
    expect(out).toContain("env.LINKS (afftrack-api#EdgeService)");
  });

  it("bundles the API worker with the clicks queue", async () => {
    const out = await dryRun("apps/api/wrangler.toml");
    expect(out).toContain("env.CLICKS (clicks)");
    expect(out).toContain("env.WIDGET_CHANNEL (WidgetChannel)");
    expect(out).toContain("--dry-run: exiting now.");
  });
});
