// The seed's S2S examples (examples/s2s/{node,python,php,go}), each run as a real process against
// the local stack with the seed's environment variables: a server-side click, then a postback
// attributed to it, asserted in Postgres.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IngestFixture, ingestFixture } from "../../../tests/ingest-support";
import { clickRow, type SharedTestStack, sharedStack } from "../../../tests/support";

const run = promisify(execFile);
const dir = (lang: string) => fileURLToPath(new URL(`../../../examples/s2s/${lang}/`, import.meta.url));

const EXAMPLES = [
  { lang: "node", cmd: process.execPath, args: ["index.mjs"] },
  { lang: "python", cmd: "python3", args: ["main.py"] },
  { lang: "php", cmd: "php", args: ["tracker.php"] },
  { lang: "go", cmd: "go", args: ["run", "."] },
] as const;

let stack: SharedTestStack;
beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

async function runExample(
  example: (typeof EXAMPLES)[number],
  f: IngestFixture,
  extraEnv: Record<string, string> = {},
) {
  const { stdout } = await run(example.cmd, [...example.args], {
    cwd: dir(example.lang),
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      GOCACHE: process.env.GOCACHE ?? "/tmp/afftrack-go-cache",
      GOFLAGS: "-mod=mod",
      AFFTOK_API_KEY: f.api_key,
      AFFTOK_ADVERTISER_ID: f.advertiser_id,
      AFFTOK_BASE_URL: stack.apiUrl,
      AFFTOK_OFFER_ID: f.offer_id,
      AFFTOK_TRACKING_CODE: f.tracking_code,
      ...extraEnv,
    },
  });
  return JSON.parse(stdout.trim()) as { click_id: string; conversion_id: string; transaction_id: string };
}

describe("S2S examples against the local stack", () => {
  for (const example of EXAMPLES) {
    it(`${example.lang}: a signed click and a postback attributed to it`, { timeout: 180_000 }, async () => {
      const f = await ingestFixture(stack);
      const out = await runExample(example, f);
      expect(out.click_id).toMatch(/^clk_/);
      expect(out.conversion_id).toEqual(expect.any(String));
      expect(await clickRow(stack.db, out.click_id)).toMatchObject({
        source: "sdk",
        advertiser_id: f.advertiser_id,
        publisher_id: f.publisher_id,
      });
      const row = await stack.db
        .selectFrom("conversions")
        .selectAll()
        .where("advertiser_id", "=", f.advertiser_id)
        .where("transaction_id", "=", out.transaction_id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        id: out.conversion_id,
        click_id: out.click_id,
        publisher_id: f.publisher_id,
        offer_id: f.offer_id,
        status: "approved",
        currency: "USD",
        attribution: "click",
      });
      expect(String(row.amount)).toMatch(/^29\.990*$/);

      // The same transaction again is refused as the seed's duplicate, and the example says so.
      await expect(runExample(example, f, { AFFTOK_TRANSACTION_ID: out.transaction_id })).rejects.toThrow(
        /DUPLICATE_TRANSACTION/,
      );
    });
  }
});
