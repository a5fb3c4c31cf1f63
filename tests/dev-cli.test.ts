// The newcomer's path: `pnpm dev` with nothing configured (embedded PGlite, a spawned
// redis-server or the in-process engine), then `pnpm demo`, then the printed signed link.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SEED_TRACKER_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../packages/devstack/src/build-workers";
import { freePort } from "../packages/devstack/src/free-port";
import { BROWSER_UA, waitFor } from "./support";

const tsx = path.join(repoRoot, "node_modules/.bin/tsx");
let devDir: string;
let dev: ChildProcess;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  devDir = await mkdtemp(path.join(tmpdir(), "afftrack-dev-"));
  const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = process.env;
  env = {
    ...rest,
    DEV_DIR: devDir,
    QUIET: "1",
    EDGE_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
  };
  dev = spawn(tsx, [path.join(repoRoot, "packages/devstack/src/cli/dev.ts")], { env, stdio: "ignore" });
  await waitFor(
    // Present and complete: the file may be seen between its creation and its last write.
    async () => {
      if (!existsSync(path.join(devDir, "stack.json"))) return false;
      try {
        return JSON.parse(await readFile(path.join(devDir, "stack.json"), "utf8")) as unknown;
      } catch {
        return false;
      }
    },
    // Generous: PGlite's first start and the bundling compete with the rest of the suite for CPU.
    240_000,
    "pnpm dev to write stack.json",
  );
}, 300_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
  await rm(devDir, { recursive: true, force: true });
});

async function demo() {
  const { stdout } = await promisify(execFile)(
    tsx,
    [path.join(repoRoot, "packages/devstack/src/cli/demo.ts")],
    {
      env,
    },
  );
  return JSON.parse(stdout);
}

describe("pnpm dev and pnpm demo on embedded defaults", () => {
  it("starts both workers, writes .dev/stack.json, and the demo's signed link redirects", async () => {
    const stack = JSON.parse(await readFile(path.join(devDir, "stack.json"), "utf8"));
    expect(stack).toMatchObject({
      edge_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      database: "pglite",
    });
    expect(stack.api_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const first = await demo();
    for (const field of [
      "advertiser_id",
      "api_key",
      "offer_id",
      "tracking_code",
      "short_code",
      "link_secret",
    ]) {
      expect(first[field], field).toEqual(expect.any(String));
    }
    expect(first.destination_url).toBe("https://example.com/landing?click_id={click_id}&country={country}");

    const visit = await fetch(first.signed_link, {
      redirect: "manual",
      headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": "198.51.100.200" },
    });
    expect(visit.status).toBe(302);
    expect(visit.headers.get("location")).toMatch(
      /^https:\/\/example\.com\/landing\?click_id=clk_\w+&country=US$/,
    );

    const me = await fetch(`${stack.api_url}/api/auth/me`, {
      headers: { authorization: `Bearer ${first.publisher_token}` },
    });
    expect(me.status).toBe(200);

    // Idempotent: the same network and link, fresh credentials.
    const second = await demo();
    expect(second.tracking_code).toBe(first.tracking_code);
    expect(second.offer_id).toBe(first.offer_id);
    expect(second.api_key).not.toBe(first.api_key);

    // The influencer tracker: a fresh access key per run (the earlier one revoked), the seed's
    // product and influencer, and the widget of that influencer.
    expect(second.tracker_url).toBe(`${stack.api_url}/t`);
    expect(second.streamtools).toEqual({
      access_key: expect.stringMatching(/^tk_/),
      customer_code: "demo",
      product: "product",
      influencer_id: "influ_test",
      widget_url: `${stack.api_url}/w/demo/product/influ_test`,
    });
    const postback = (key: string) =>
      fetch(`${second.tracker_url}/${key}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...SEED_TRACKER_REQUEST, ip: "198.51.100.201" }),
      });
    expect((await postback(second.streamtools.access_key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // the isolate cache's TTL
    expect((await postback(first.streamtools.access_key)).status).toBe(401);
    const widget = await fetch(second.streamtools.widget_url);
    expect(widget.status).toBe(200);
    expect(await widget.text()).toMatch(/<div id="count">[1-9]\d*<\/div>/);
  });
});
