// The seed's S2S examples (examples/s2s/{nodejs,python,php,go}, the seed's file names), each run as
// a real process against the local stack with the seed's environment variables: a server-side
// click, then a postback attributed to it, asserted in Postgres. Through a proxy that answers the
// first postback 503 with Retry-After as an HTTP date (honoured), and a duplicate whose first
// attempt was answered 429 (a real duplicate, not "already recorded").

import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IngestFixture, ingestFixture } from "../../../tests/ingest-support";
import { clickRow, type SharedTestStack, sharedStack } from "../../../tests/support";

const run = promisify(execFile);
const dir = (lang: string) => fileURLToPath(new URL(`../../../examples/s2s/${lang}/`, import.meta.url));

const EXAMPLES = [
  { lang: "nodejs", cmd: process.execPath, args: ["index.js"] },
  { lang: "python", cmd: "python3", args: ["main.py"] },
  { lang: "php", cmd: "php", args: ["tracker.php"] },
  { lang: "go", cmd: "go", args: ["run", "main.go"] },
] as const;

let stack: SharedTestStack;
beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

/**
 * A proxy to the API that answers the first POST /api/postback itself (`first`), then forwards
 * everything; it notes when each postback arrived.
 */
async function postbackProxy(first: () => { status: number; headers: Record<string, string> }) {
  const postbacks: number[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === "/api/postback") {
      postbacks.push(Date.now());
      if (postbacks.length === 1) {
        const { status, headers } = first();
        const body = JSON.stringify({ success: false, error: "try again", code: "SERVICE_UNAVAILABLE" });
        res.writeHead(status, {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
        });
        res.end(body);
        return;
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (k !== "host" && k !== "connection" && typeof v === "string") headers.set(k, v);
    const upstream = await fetch(`${stack.apiUrl}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? null : Buffer.concat(chunks),
    });
    const text = await upstream.text();
    res.writeHead(upstream.status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, postbacks, close: () => new Promise<void>((r) => server.close(() => r())) };
}

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
      // Retry-After as an HTTP date (second precision) at least 1.5 s ahead.
      let retryAt = 0;
      const dated = await postbackProxy(() => {
        retryAt = Math.ceil((Date.now() + 1500) / 1000) * 1000;
        return { status: 503, headers: { "retry-after": new Date(retryAt).toUTCString() } };
      });
      let out: Awaited<ReturnType<typeof runExample>>;
      try {
        out = await runExample(example, f, { AFFTOK_BASE_URL: dated.url });
      } finally {
        await dated.close();
      }
      expect(dated.postbacks).toHaveLength(2);
      // Waited for the date (a 100 ms allowance for clocks read by another process).
      expect(dated.postbacks[1]).toBeGreaterThanOrEqual(retryAt - 100);
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

      // The same transaction again is refused as the seed's duplicate, and the example says so, even
      // when its first attempt was answered 429 (which writes nothing: the 409 is not its own write).
      const limited = await postbackProxy(() => ({ status: 429, headers: { "retry-after": "0" } }));
      try {
        await expect(
          runExample(example, f, { AFFTOK_BASE_URL: limited.url, AFFTOK_TRANSACTION_ID: out.transaction_id }),
        ).rejects.toThrow(/DUPLICATE_TRANSACTION/);
      } finally {
        await limited.close();
      }
      expect(limited.postbacks).toHaveLength(2);
    });
  }
});
