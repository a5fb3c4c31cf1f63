// The SDK bundled for the browser (no Node built-ins) runs in workerd, Cloudflare's runtime, and
// signs and verifies exactly as it does in Node.

import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedSignature, signLinkToken, signRequestV2 } from "../src/index";

let mf: Miniflare;

const WORKER = `
import * as sdk from "./sdk.mjs";
export default {
  async fetch(request) {
    const p = await request.json();
    let webhook;
    try {
      webhook = (await sdk.verifyWebhook({ secret: p.webhook.secret, headers: p.webhook.headers, body: p.webhook.body })).event;
    } catch (e) {
      webhook = "refused: " + e.reason;
    }
    return Response.json({
      seed: await sdk.seedSignature(p.seed),
      v2: await sdk.signRequestV2(p.v2),
      link: await sdk.signLinkToken(p.link),
      webhook,
      tampered: await sdk.verifyWebhook({ ...p.webhook, body: p.webhook.body + " " }).then(() => "accepted", (e) => e.reason),
    });
  },
};`;

beforeAll(async () => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL("../src/index.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  mf = new Miniflare({
    modules: [
      { type: "ESModule", path: "worker.mjs", contents: WORKER },
      { type: "ESModule", path: "sdk.mjs", contents: out.outputFiles[0]?.text ?? "" },
    ],
    compatibilityDate: "2025-01-01",
  });
});
afterAll(() => mf?.dispose());

describe("the SDK in workerd", () => {
  it("computes the same signatures as in Node and verifies a Standard Webhooks delivery", async () => {
    const secret = `whsec_${Buffer.from("0123456789abcdef01234567").toString("base64")}`;
    const now = new Date();
    const body = '{"event":"conversion.created","timestamp":1,"data":{}}';
    const p = {
      seed: { apiKey: "ak_x", advertiserId: "adv_1", timestamp: 1_700_000_000_000, nonce: "n0nce-123456" },
      v2: {
        signingSecret: "ss_x",
        method: "POST",
        path: "/api/postback",
        body: "{}",
        timestamp: 1,
        nonce: "abcdefgh",
      },
      link: { secret: "lsec", trackingCode: "abc123", timestamp: 1_699_876_543_210, nonce: "nonce12345" },
      webhook: {
        secret,
        body,
        headers: {
          "webhook-id": "msg_w",
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": new Webhook(secret).sign("msg_w", now, body),
        },
      },
    };
    const res = await mf.dispatchFetch("http://sdk.test/", { method: "POST", body: JSON.stringify(p) });
    expect(await res.json()).toEqual({
      seed: await seedSignature(p.seed),
      v2: await signRequestV2(p.v2),
      link: await signLinkToken(p.link),
      webhook: "conversion.created",
      tampered: "bad_signature",
    });
  });
});
