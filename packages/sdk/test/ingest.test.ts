// The SDK against the running stack (workerd + Postgres + Redis): every ingestion endpoint with
// both signatures, a management flow from login to a signed link whose click a conversion is then
// attributed to, and retries on 503 and on a lost answer that count the conversion once.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionRow, type IngestFixture, ingestFixture } from "../../../tests/ingest-support";
import { buildNetwork, PASSWORD, visitLink } from "../../../tests/management-helpers";
import { clickIdOf, clickRow, type SharedTestStack, sharedStack } from "../../../tests/support";
import { createApiClient, createIngestClient, type IngestClientOptions, randomNonce } from "../src/index";

let stack: SharedTestStack;
let f: IngestFixture;

beforeAll(async () => {
  stack = sharedStack();
  f = await ingestFixture(stack);
});
afterAll(() => stack.close());

const txn = () => `txn_${randomNonce(16)}`;
const fast = { retries: 3, baseDelayMs: 20, maxDelayMs: 100 };

function clients() {
  const creds = { baseUrl: stack.apiUrl, apiKey: f.api_key, advertiserId: f.advertiser_id, retry: fast };
  return {
    seed: createIngestClient(creds),
    v2: createIngestClient({ ...creds, signingSecret: f.key.signing_secret, platform: "web" }),
  };
}

async function conversionsOf(transactionId: string) {
  return stack.db
    .selectFrom("conversions")
    .selectAll()
    .where("advertiser_id", "=", f.advertiser_id)
    .where("transaction_id", "=", transactionId)
    .execute();
}

describe("ingestion endpoints through the SDK", () => {
  it("tracks an SDK click and a conversion attributed to it (seed signature)", async () => {
    const { seed } = clients();
    const click = await seed.trackClick({
      offer_id: f.offer_id,
      tracking_code: f.tracking_code,
      sub_id_1: "sdk",
    });
    expect(click).toMatchObject({ ok: true, status: 200, attempts: 1, data: { offer_id: f.offer_id } });
    if (!click.ok || !click.data) throw new Error("click refused");
    const clickId = click.data.click_id;
    expect(await clickRow(stack.db, clickId)).toMatchObject({ source: "sdk", publisher_id: f.publisher_id });

    const transaction_id = txn();
    const conv = await seed.trackConversion({
      offer_id: f.offer_id,
      transaction_id,
      click_id: clickId,
      amount: 12.5,
    });
    expect(conv).toMatchObject({
      ok: true,
      status: 200,
      data: { transaction_id, amount: 12.5, currency: "USD" },
    });
    if (!conv.ok || !conv.data) throw new Error("conversion refused");
    expect(await conversionRow(stack, conv.data.conversion_id)).toMatchObject({
      click_id: clickId,
      publisher_id: f.publisher_id,
      transaction_id,
    });
  });

  it("sends a v2-signed postback, then changes its status", async () => {
    const { v2 } = clients();
    const transaction_id = txn();
    const pb = await v2.postback({ offer_id: f.offer_id, transaction_id, amount: 29.99, status: "pending" });
    expect(pb).toMatchObject({ ok: true, status: 200, message: "Postback received" });
    const [row] = await conversionsOf(transaction_id);
    expect(row).toMatchObject({ status: "pending", transaction_id });

    const st = await v2.updateConversionStatus({ transaction_id, status: "approved" });
    expect(st).toMatchObject({ ok: true, data: { previous_status: "pending", status: "approved" } });
    expect((await conversionsOf(transaction_id))[0]?.status).toBe("approved");
  });

  it("sends a batch of a click and a conversion", async () => {
    const { v2 } = clients();
    const transaction_id = txn();
    const batch = await v2.batch({
      events: [
        { type: "click", offer_id: f.offer_id, tracking_code: f.tracking_code },
        { type: "conversion", offer_id: f.offer_id, transaction_id, amount: 5 },
      ],
    });
    expect(batch).toMatchObject({ ok: true, data: { accepted: 2, rejected: 0 } });
    expect(await conversionsOf(transaction_id)).toHaveLength(1);
  });

  it("reports refusals in the seed's codes without retrying them", async () => {
    const bad = createIngestClient({
      baseUrl: stack.apiUrl,
      apiKey: `${f.api_key}x`,
      advertiserId: f.advertiser_id,
    });
    expect(await bad.postback({ offer_id: f.offer_id, transaction_id: txn() })).toEqual({
      ok: false,
      status: 401,
      code: "INVALID_API_KEY",
      error: expect.any(String),
      attempts: 1,
    });
    const { seed } = clients();
    const transaction_id = txn();
    expect(await seed.postback({ offer_id: f.offer_id, transaction_id })).toMatchObject({ ok: true });
    // A second, separate report of the same transaction is a duplicate (not a retry): refused.
    expect(await seed.postback({ offer_id: f.offer_id, transaction_id })).toMatchObject({
      ok: false,
      status: 409,
      code: "DUPLICATE_TRANSACTION",
      attempts: 1,
    });
  });
});

/** A proxy in front of the API that misbehaves on the first request, then forwards faithfully. */
async function flakyProxy(first: "503" | "429" | "drop-after-forward") {
  const seen: { nonce: string | null; body: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const nonce =
      (req.headers["x-signature-nonce"] as string | undefined) ?? (body ? JSON.parse(body).nonce : null);
    seen.push({ nonce, body });
    if (seen.length === 1 && first === "503") {
      res.writeHead(503, { "retry-after": "1", "content-type": "application/json" });
      res.end('{"success":false,"error":"Service unavailable","code":"SERVICE_UNAVAILABLE"}');
      return;
    }
    if (seen.length === 1 && first === "429") {
      res.writeHead(429, { "retry-after": "0", "content-type": "application/json" });
      res.end('{"success":false,"error":"Too many requests","code":"RATE_LIMITED"}');
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (k !== "host" && typeof v === "string") headers.set(k, v);
    const upstream = await fetch(`${stack.apiUrl}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? null : body,
    });
    const text = await upstream.text();
    if (seen.length === 1 && first === "drop-after-forward") {
      res.socket?.destroy(); // the API recorded it; the answer is lost on the way back
      return;
    }
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("retries against the stack", () => {
  const through = (url: string, extra: Partial<IngestClientOptions> = {}) =>
    createIngestClient({
      baseUrl: url,
      apiKey: f.api_key,
      advertiserId: f.advertiser_id,
      retry: fast,
      ...extra,
    });

  it("retries a 503 after its Retry-After with a fresh nonce, and records the conversion once", async () => {
    const proxy = await flakyProxy("503");
    try {
      const transaction_id = txn();
      const started = Date.now();
      const r = await through(proxy.url).postback({ offer_id: f.offer_id, transaction_id, amount: 3 });
      expect(r).toMatchObject({ ok: true, status: 200, attempts: 2 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(proxy.seen).toHaveLength(2);
      expect(proxy.seen[0]?.nonce).not.toBe(proxy.seen[1]?.nonce);
      expect(await conversionsOf(transaction_id)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("treats 409 DUPLICATE_TRANSACTION on a retry after a lost answer as recorded (once)", async () => {
    const proxy = await flakyProxy("drop-after-forward");
    try {
      const transaction_id = txn();
      const r = await through(proxy.url, { signingSecret: f.key.signing_secret }).trackConversion({
        offer_id: f.offer_id,
        transaction_id,
        amount: 7,
      });
      expect(r).toEqual({ ok: true, status: 409, attempts: 2, alreadyRecorded: true });
      expect(await conversionsOf(transaction_id)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("reports 409 DUPLICATE_TRANSACTION after a 429 as a real duplicate (the 429 wrote nothing)", async () => {
    const transaction_id = txn();
    const { seed } = clients();
    expect(await seed.postback({ offer_id: f.offer_id, transaction_id, amount: 1 })).toMatchObject({
      ok: true,
    });
    const proxy = await flakyProxy("429");
    try {
      // A second, separate report of a recorded transaction, whose first attempt was rate limited.
      const r = await through(proxy.url).postback({ offer_id: f.offer_id, transaction_id, amount: 1 });
      expect(r).toMatchObject({ ok: false, status: 409, code: "DUPLICATE_TRANSACTION", attempts: 2 });
      expect(proxy.seen).toHaveLength(2);
      expect(await conversionsOf(transaction_id)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("retries a management GET answered 503, with the bearer token on every attempt", async () => {
    const proxy = await flakyProxy("503");
    try {
      const net = await buildNetwork(stack, "SDK retry");
      const api = createApiClient({ baseUrl: proxy.url, token: net.advertiserToken, retry: fast });
      const me = await api.GET("/api/auth/me");
      expect(me.response.status).toBe(200);
      expect(me.data?.data.user.advertiser_id).toBe(net.advertiser_id);
      expect(proxy.seen).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it("does not retry an SDK click after a lost answer (a repeat would count twice)", async () => {
    const proxy = await flakyProxy("drop-after-forward");
    try {
      await expect(
        through(proxy.url).trackClick({ offer_id: f.offer_id, tracking_code: f.tracking_code }),
      ).rejects.toThrow();
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

describe("management flow through the typed client", () => {
  it("login → API key → publisher joins → signed link → click → attributed conversion", async () => {
    const net = await buildNetwork(stack, "SDK");
    const anon = createApiClient({ baseUrl: stack.apiUrl });
    const login = await anon.POST("/api/auth/login", { body: { email: net.adminEmail, password: PASSWORD } });
    expect(login.response.status).toBe(200);
    const admin = createApiClient({ baseUrl: stack.apiUrl, token: login.data?.data.access_token });
    const me = await admin.GET("/api/auth/me");
    expect(me.data?.data.user).toMatchObject({ email: net.adminEmail, role: "network_admin" });

    const key = await admin.POST("/api/api-keys", { body: { advertiser_id: net.advertiser_id } });
    expect(key.response.status).toBe(201);
    const publisher = createApiClient({ baseUrl: stack.apiUrl, token: () => net.publisherToken });
    const joined = await publisher.POST("/api/offers/{id}/join", { params: { path: { id: net.offer_id } } });
    expect(joined.error).toBeUndefined();
    const tracking_code = joined.data?.data.tracking_code as string;
    const signed = await publisher.POST("/api/links/sign", { body: { tracking_code, ttl_minutes: 5 } });
    expect(signed.response.status).toBe(200);
    const link = signed.data?.data.signed_link as string;

    const visit = await visitLink(stack, link);
    expect(visit.status).toBe(302);
    const clickId = clickIdOf(visit.headers.get("location"));
    const ingest = createIngestClient({
      baseUrl: stack.apiUrl,
      apiKey: key.data?.data.key as string,
      advertiserId: net.advertiser_id,
      signingSecret: key.data?.data.signing_secret as string,
    });
    const conv = await ingest.postback({
      offer_id: net.offer_id,
      transaction_id: txn(),
      click_id: clickId,
      amount: 10,
    });
    expect(conv).toMatchObject({ ok: true, status: 200 });
    if (!conv.ok || !conv.data) throw new Error("refused");
    expect(await conversionRow(stack, conv.data.conversion_id)).toMatchObject({
      click_id: clickId,
      publisher_id: net.publisher_id,
      attribution: "click",
    });
  });
});
