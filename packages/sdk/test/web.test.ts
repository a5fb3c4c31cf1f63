// The web tracking script in Chromium: a visitor follows a signed tracking link, the edge redirects
// to the landing page with {click_id}, the script keeps it first-party, and a later page reports a
// conversion through the advertiser's relay, attributed to that click in Postgres.

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../../tests/browser";
import { conversionRow, type IngestFixture, ingestFixture } from "../../../tests/ingest-support";
import { BROWSER_UA, type SharedTestStack, sharedStack, signedPath } from "../../../tests/support";
import { buildBundles } from "../scripts/build";
import { createIngestClient, randomNonce, relayWebConversion } from "../src/index";

let stack: SharedTestStack;
let browser: Browser;
let server: Server;
let origin: string;
let f: IngestFixture;
let bundle: string;
let sizes: Awaited<ReturnType<typeof buildBundles>>;
/** The advertiser's order records, which the relay prices conversions from. */
const orders = new Map<string, { amount: number; currency: string }>();

const page = (title: string) => `<!doctype html><html><head><title>${title}</title>
<script src="/afftrack.min.js" data-endpoint="/relay" data-attribution-days="30"></script></head>
<body><h1>${title}</h1></body></html>`;

beforeAll(async () => {
  stack = sharedStack();
  sizes = await buildBundles();
  bundle = readFileSync(fileURLToPath(new URL("../dist/afftrack.min.js", import.meta.url)), "utf8");
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/afftrack.min.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (req.method === "POST" && url.pathname === "/relay") {
      // The advertiser's backend: it holds the key and names the offer; the page names the click.
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const ingest = createIngestClient({
        baseUrl: stack.apiUrl,
        apiKey: f.api_key,
        advertiserId: f.advertiser_id,
        signingSecret: f.key.signing_secret,
        platform: "web",
      });
      // The browser only points at its click and names the order; what it is worth comes from here.
      const posted = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const order = orders.get(String(posted?.transaction_id));
      const result = await relayWebConversion(ingest, posted, {
        offer_id: f.offer_id,
        ...(order ? { amount: order.amount, currency: order.currency } : {}),
      });
      res.writeHead(result ? 200 : 400, { "content-type": "application/json" }).end(JSON.stringify(result));
    } else {
      res.writeHead(200, { "content-type": "text/html" }).end(page(url.pathname.slice(1)));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f = await ingestFixture(stack, { destinationUrl: `${origin}/landing?click_id={click_id}&utm=aff` });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await stack.close();
});

describe("web tracking script", () => {
  it("is at most 10 KB gzipped", () => {
    const web = sizes.find((s) => s.file === "dist/afftrack.min.js");
    expect(web?.gzip).toBeGreaterThan(0);
    expect(web?.gzip).toBeLessThanOrEqual(10 * 1024);
  });

  it("keeps the click of a signed link and attributes a later conversion to it", async () => {
    const context = await browser.newContext({ userAgent: BROWSER_UA });
    try {
      const tab = await context.newPage();
      await tab.goto(`${stack.edgeUrl}${await signedPath(f)}`);
      const landed = new URL(tab.url());
      expect(`${landed.origin}${landed.pathname}`).toBe(`${origin}/landing`);
      const clickId = landed.searchParams.get("click_id");
      expect(clickId).toMatch(/^clk_/);
      expect(await tab.evaluate("AffTrack.getClickId()")).toBe(clickId);

      const cookie = (await context.cookies(origin)).find((c) => c.name === "afftrack_click_id");
      expect(cookie?.value).toBe(clickId);
      const days = ((cookie?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThanOrEqual(30);

      // Another page of the site, without the parameter: the click is still known.
      await tab.goto(`${origin}/checkout`);
      expect(await tab.evaluate("AffTrack.getClickId()")).toBe(clickId);
      // Cookie gone (e.g. cleared by the browser): localStorage still holds it.
      await context.clearCookies();
      expect(await tab.evaluate("AffTrack.getClickId()")).toBe(clickId);

      const transaction_id = `txn_${randomNonce(16)}`;
      orders.set(transaction_id, { amount: 19.99, currency: "USD" });
      // The page claims more than the order is worth: the relay records the server's amount, pending.
      const answer = (await tab.evaluate(
        `AffTrack.conversion({ transaction_id: ${JSON.stringify(transaction_id)}, amount: 1999, currency: "EUR" })`,
      )) as { ok: boolean; data: { conversion_id: string } };
      expect(answer).toMatchObject({
        ok: true,
        data: { transaction_id, amount: 19.99, currency: "USD", status: "pending" },
      });
      expect(await conversionRow(stack, answer.data.conversion_id)).toMatchObject({
        click_id: clickId,
        publisher_id: f.publisher_id,
        attribution: "click",
        transaction_id,
        status: "pending",
      });
    } finally {
      await context.close();
    }
  });

  it("survives a malformed cookie: ignores it and falls back to localStorage", async () => {
    const context = await browser.newContext({ userAgent: BROWSER_UA });
    try {
      const tab = await context.newPage();
      await tab.goto(`${stack.edgeUrl}${await signedPath(f)}`);
      const clickId = new URL(tab.url()).searchParams.get("click_id");
      expect(clickId).toMatch(/^clk_/);
      // Another script (or a tampering visitor) leaves a value decodeURIComponent cannot decode.
      await context.clearCookies();
      await context.addCookies([{ name: "afftrack_click_id", value: "%E0%A4%A", url: origin }]);
      await tab.goto(`${origin}/checkout`);
      expect(await tab.evaluate("AffTrack.getClickId()")).toBe(clickId);

      const transaction_id = `txn_${randomNonce(16)}`;
      const answer = (await tab.evaluate(
        `AffTrack.conversion({ transaction_id: ${JSON.stringify(transaction_id)} })`,
      )) as { ok: boolean; data: { conversion_id: string } };
      expect(answer.ok).toBe(true);
      expect(await conversionRow(stack, answer.data.conversion_id)).toMatchObject({
        click_id: clickId,
        attribution: "click",
      });
    } finally {
      await context.close();
    }
  });

  it("ignores a malformed click_id and reports the conversion unattributed", async () => {
    const context = await browser.newContext({ userAgent: BROWSER_UA });
    try {
      const tab = await context.newPage();
      await tab.goto(`${origin}/landing?click_id=${encodeURIComponent("clk_<script>")}`);
      expect(await tab.evaluate("AffTrack.getClickId()")).toBeNull();
      expect((await context.cookies(origin)).some((c) => c.name === "afftrack_click_id")).toBe(false);
      const transaction_id = `txn_${randomNonce(16)}`;
      const answer = (await tab.evaluate(
        `AffTrack.conversion({ transaction_id: ${JSON.stringify(transaction_id)} })`,
      )) as {
        ok: boolean;
        data: { conversion_id: string };
      };
      expect(answer.ok).toBe(true);
      expect(await conversionRow(stack, answer.data.conversion_id)).toMatchObject({
        click_id: null,
        publisher_id: null,
        attribution: "no_click",
      });
    } finally {
      await context.close();
    }
  });
});
