// Webhooks end to end: endpoints over the management API, conversions over the ingestion API, and
// a loopback receiver. Signatures checked by the `standardwebhooks` package and the seed's recipe;
// retries on the `webhooks` stack's fast clock (schedule × 0.00002); 410, dead letter, resend,
// recover, rotation, private destinations, tenant isolation.

import { createHmac } from "node:crypto";
import { createApiKey } from "@afftrack/db";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSigned } from "../../../../../../tests/ingest-support";
import { buildNetwork, call, type Network } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack, waitFor } from "../../../../../../tests/support";
import { startWebhookReceiver, type WebhookReceiver } from "../../../../../../tests/webhook-receiver";

const SCALE = 0.00002;
const SCHEDULE_MS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400].map((s) => s * 1000 * SCALE);

let stack: SharedTestStack;
let receiver: WebhookReceiver;
let net: Network;
let creds: { api_key: string; advertiser_id: string };
let n = 0;

beforeAll(async () => {
  stack = sharedStack("webhooks");
  receiver = await startWebhookReceiver();
  net = await buildNetwork(stack, "Hooks");
  const key = await createApiKey(stack.db, { tenant_id: net.tenant_id, advertiser_id: net.advertiser_id });
  creds = { api_key: key.key, advertiser_id: net.advertiser_id };
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

/** The seed's recipe (afftok-api-reference.md, "Verifying Webhooks"). */
function verifyWebhook(payload: unknown, signature: string, webhookSecret: string): boolean {
  const expectedSignature = createHmac("sha256", webhookSecret).update(JSON.stringify(payload)).digest("hex");
  return signature === expectedSignature;
}

function headersOf(h: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]),
  );
}

async function createEndpoint(
  name: string,
  body: Record<string, unknown> = {},
  token = net.advertiserToken,
): Promise<{ id: string; secret: string }> {
  const r = await call(stack, "POST", "/api/webhooks", {
    token,
    body: { url: receiver.url(name), events: ["conversion.created", "conversion.updated"], ...body },
  });
  expect(r.status, r.text).toBe(201);
  return r.body.data;
}

async function convert(extra: Record<string, unknown> = {}): Promise<string> {
  n += 1;
  const res = await postSigned(stack, "/api/postback", creds, {
    offer_id: net.offer_id,
    transaction_id: `txn_hook_${Date.now()}_${n}`,
    amount: 29.99,
    currency: "USD",
    status: "pending",
    ...extra,
  });
  const body = (await res.json()) as { data: { conversion_id: string } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.conversion_id;
}

async function deliveriesOf(endpointId: string, token = net.advertiserToken) {
  const r = await call(stack, "GET", `/api/webhooks/${endpointId}/deliveries`, { token });
  expect(r.status, r.text).toBe(200);
  return r.body.data.items as {
    id: string;
    status: string;
    attempt_count: number;
    next_attempt_at: string | null;
    attempts: {
      attempt: number;
      trigger: string;
      response_status: number | null;
      next_attempt_at: string | null;
      request_headers: Record<string, string>;
      latency_ms: number;
    }[];
  }[];
}

describe("webhook endpoints", () => {
  it("shows the whsec_ secret once, lists the endpoint without it, and hides it from others", async () => {
    const created = await createEndpoint("crud");
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const got = await call(stack, "GET", `/api/webhooks/${created.id}`, { token: net.advertiserToken });
    expect(got.status).toBe(200);
    expect(got.body.data).toMatchObject({
      id: created.id,
      owner_type: "advertiser",
      advertiser_id: net.advertiser_id,
      enabled: true,
      disabled_reason: null,
      failing_since: null,
    });
    expect(got.text).not.toContain("whsec_");
    const list = await call(stack, "GET", "/api/webhooks", { token: net.advertiserToken });
    expect(list.body.data.items.map((e: { id: string }) => e.id)).toContain(created.id);
    expect(list.text).not.toContain("whsec_");
    // The network's publisher and another network see nothing of it.
    expect(
      (await call(stack, "GET", `/api/webhooks/${created.id}`, { token: net.publisherToken })).status,
    ).toBe(404);
    const other = await buildNetwork(stack, "Other");
    const foreign = await call(stack, "GET", `/api/webhooks/${created.id}`, { token: other.adminToken });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe("NOT_FOUND");
    const patched = await call(stack, "PATCH", `/api/webhooks/${created.id}`, {
      token: net.advertiserToken,
      body: { events: ["test"], enabled: false },
    });
    expect(patched.body.data).toMatchObject({ events: ["test"], enabled: false, disabled_reason: "manual" });
    expect(
      (await call(stack, "DELETE", `/api/webhooks/${created.id}`, { token: net.advertiserToken })).status,
    ).toBe(200);
    expect(
      (await call(stack, "GET", `/api/webhooks/${created.id}`, { token: net.advertiserToken })).status,
    ).toBe(404);
  });

  it.each([
    "http://10.0.0.5/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.1.1/hook",
    "http://[fd00:ec2::254]/hook",
    "http://0xa9fea9fe/hook",
    "http://2852039166/hook",
    "http://metadata.google.internal/hook",
    "ftp://example.com/hook",
  ])("refuses the private or non-http destination %s", async (url) => {
    const r = await call(stack, "POST", "/api/webhooks", {
      token: net.advertiserToken,
      body: { url, events: ["conversion.created"] },
    });
    expect(r.status, r.text).toBe(400);
    expect(r.body).toMatchObject({ success: false, code: "INVALID_PARAMS" });
    expect(r.body.error).toContain('"url"');
  });
});

describe("delivery", () => {
  it("refuses a private destination again at delivery (an address changed behind the API's back)", async () => {
    const ep = await createEndpoint("moved", { events: ["test"] });
    await stack.db
      .updateTable("webhook_endpoints")
      .set({ url: "http://169.254.169.254/latest/meta-data/" })
      .where("id", "=", ep.id)
      .execute();
    const test = await call(stack, "POST", `/api/webhooks/${ep.id}/test`, { token: net.advertiserToken });
    expect(test.status, test.text).toBe(201);
    const [d] = await waitFor(async () => {
      const list = await deliveriesOf(ep.id);
      return list[0]?.status === "failed" ? list : null;
    });
    expect(d).toMatchObject({ status: "failed", attempt_count: 1, next_attempt_at: null });
    expect(d!.attempts[0]).toMatchObject({ response_status: null, next_attempt_at: null });
    expect((d!.attempts[0] as unknown as { error: string }).error).toMatch(/^destination refused/);
    await call(stack, "DELETE", `/api/webhooks/${ep.id}`, { token: net.advertiserToken });
  });

  it("delivers one signed event after the postback: standardwebhooks and the seed's recipe verify it", async () => {
    const ep = await createEndpoint("signed");
    const conversionId = await convert({ status: "approved" });
    const [req] = await receiver.waitFor("signed", 1);
    const headers = headersOf(req!.headers);
    expect(req!.method).toBe("POST");
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    const verified = new Webhook(ep.secret).verify(req!.body, headers) as Record<string, unknown>;
    expect(verified).toMatchObject({
      event: "conversion.created",
      data: {
        conversion_id: conversionId,
        offer_id: net.offer_id,
        amount: 29.99,
        currency: "USD",
        status: "approved",
      },
    });
    const { signature, ...payload } = JSON.parse(req!.body) as { signature: string };
    expect(verifyWebhook(payload, signature, ep.secret)).toBe(true);
    expect(verifyWebhook(payload, signature, `${ep.secret}x`)).toBe(false);
    // At rest the secret is AES-GCM ciphertext under the stack's key: never in clear.
    const stored = await stack.db
      .selectFrom("webhook_secrets")
      .select(["secret", "key_id"])
      .where("endpoint_id", "=", ep.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.key_id).toBe("k1");
    expect(stored[0]!.secret).toMatch(/^v1\./);
    expect(stored[0]!.secret).not.toContain(ep.secret.slice("whsec_".length));
    // The status change is another event with another webhook-id.
    const changed = await postSigned(stack, "/api/conversions/status", creds, {
      conversion_id: conversionId,
      status: "rejected",
    });
    expect(changed.status).toBe(200);
    const both = await receiver.waitFor("signed", 2);
    const second = JSON.parse(both[1]!.body);
    expect(second).toMatchObject({
      event: "conversion.updated",
      data: { conversion_id: conversionId, status: "rejected", previous_status: "approved" },
    });
    expect(both[1]!.headers["webhook-id"]).not.toBe(headers["webhook-id"]);
  });

  it("retries on the Standard Webhooks schedule until accepted: one accepted delivery, one webhook-id", async () => {
    const ep = await createEndpoint("flaky");
    receiver.plan("flaky", [500, 502, 500, 429, 503]);
    await convert();
    const reqs = await receiver.waitFor("flaky", 6, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests("flaky")).toHaveLength(6);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"])).size).toBe(1);
    // Each attempt's body is stamped with its send time, so a receiver's replay window holds.
    const stamps = reqs.map((r) => (JSON.parse(r.body) as { timestamp: number }).timestamp);
    for (const [i, r] of reqs.entries()) expect(Math.abs(r.at - (stamps[i] as number))).toBeLessThan(5_000);
    expect(stamps[5]).toBeGreaterThan(stamps[0] as number);
    for (const r of reqs)
      expect(() => new Webhook(ep.secret).verify(r.body, headersOf(r.headers))).not.toThrow();
    // Gap i is at least the schedule's step i (× the fast clock, less 10 % jitter).
    const gaps = reqs.slice(1).map((r, i) => r.at - (reqs[i] as { at: number }).at);
    for (const [i, gap] of gaps.entries()) {
      expect(gap).toBeGreaterThanOrEqual(Math.floor((SCHEDULE_MS[i] as number) * 0.9));
    }
    expect(gaps[4]).toBeGreaterThan(gaps[2] as number);
    const [d] = await waitFor(async () => {
      const list = await deliveriesOf(ep.id);
      return list[0]?.status === "succeeded" ? list : null;
    });
    expect(d).toMatchObject({ status: "succeeded", attempt_count: 6, next_attempt_at: null });
    expect(d!.attempts.map((a) => a.response_status)).toEqual([500, 502, 500, 429, 503, 200]);
    expect(d!.attempts.slice(0, 5).every((a) => a.next_attempt_at !== null)).toBe(true);
    expect(d!.attempts[5]!.next_attempt_at).toBeNull();
    expect(d!.attempts[0]!.request_headers["webhook-id"]).toBe(d!.id);
    expect(reqs[0]!.headers["webhook-id"]).toBe(d!.id);
  });

  it("gives up after the 10th attempt (dead letter); recover and resend re-send it with its webhook-id", async () => {
    const ep = await createEndpoint("dead");
    receiver.plan("dead", [], 500);
    const started = Date.now();
    await convert();
    await receiver.waitFor("dead", 10, 40_000);
    const [d] = await waitFor(async () => {
      const list = await deliveriesOf(ep.id);
      return list[0]?.status === "failed" ? list : null;
    }, 20_000);
    expect(d).toMatchObject({ status: "failed", attempt_count: 10, next_attempt_at: null });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests("dead")).toHaveLength(10);
    // The endpoint has been failing since the first attempt.
    const state = await call(stack, "GET", `/api/webhooks/${ep.id}`, { token: net.advertiserToken });
    expect(state.body.data.failing_since).not.toBeNull();

    receiver.plan("dead", [], 200);
    const recover = await call(stack, "POST", `/api/webhooks/${ep.id}/recover`, {
      token: net.advertiserToken,
      body: { since: new Date(started - 1000).toISOString() },
    });
    expect(recover.status, recover.text).toBe(200);
    expect(recover.body.data).toEqual({ queued: 1, delivery_ids: [d!.id] });
    const after = await receiver.waitFor("dead", 11);
    expect(after[10]!.headers["webhook-id"]).toBe(d!.id);
    const recovered = await waitFor(async () => {
      const list = await deliveriesOf(ep.id);
      return list[0]?.status === "succeeded" ? list[0] : null;
    });
    expect(recovered.attempts.at(-1)).toMatchObject({ trigger: "recover", response_status: 200 });
    expect(
      (await call(stack, "GET", `/api/webhooks/${ep.id}`, { token: net.advertiserToken })).body.data
        .failing_since,
    ).toBeNull();

    const resend = await call(stack, "POST", `/api/webhooks/${ep.id}/deliveries/${d!.id}/resend`, {
      token: net.advertiserToken,
    });
    expect(resend.status, resend.text).toBe(200);
    const again = await receiver.waitFor("dead", 12);
    expect(again[11]!.headers["webhook-id"]).toBe(d!.id);
    const other = await buildNetwork(stack, "Snoop");
    const foreign = await call(stack, "POST", `/api/webhooks/${ep.id}/deliveries/${d!.id}/resend`, {
      token: other.adminToken,
    });
    expect(foreign.status).toBe(404);
  });

  it("disables an endpoint that answers 410 and tells the owner's other endpoints", async () => {
    const gone = await createEndpoint("gone");
    const watcher = await createEndpoint("watcher", { events: ["test"] });
    receiver.plan("gone", [410]);
    await convert();
    const [notice] = await receiver.waitFor("watcher", 1);
    const body = new Webhook(watcher.secret).verify(notice!.body, headersOf(notice!.headers));
    expect(body).toMatchObject({
      event: "endpoint.disabled",
      data: { endpoint_id: gone.id, disabled_reason: "gone" },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests("gone")).toHaveLength(1);
    const state = await call(stack, "GET", `/api/webhooks/${gone.id}`, { token: net.advertiserToken });
    expect(state.body.data).toMatchObject({ enabled: false, disabled_reason: "gone" });
    const listed = await call(stack, "GET", "/api/webhooks", { token: net.advertiserToken });
    expect(listed.body.data.items.find((e: { id: string }) => e.id === gone.id)).toMatchObject({
      disabled_reason: "gone",
    });
    // Disabled: later events skip it; re-enabling clears the state.
    await convert();
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests("gone")).toHaveLength(1);
    const enabled = await call(stack, "PATCH", `/api/webhooks/${gone.id}`, {
      token: net.advertiserToken,
      body: { enabled: true },
    });
    expect(enabled.body.data).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    await call(stack, "DELETE", `/api/webhooks/${watcher.id}`, { token: net.advertiserToken });
    await call(stack, "DELETE", `/api/webhooks/${gone.id}`, { token: net.advertiserToken });
  });

  it("disables an endpoint failing for 5 days straight (8.6 s on the fast clock) and says why", async () => {
    const failing = await createEndpoint("failing");
    const watcher = await createEndpoint("watcher2", { events: ["test"] });
    receiver.plan("failing", [], 500);
    const started = Date.now();
    await convert();
    // One event's ten attempts span 3 days; the next event keeps the streak going past 5 days.
    await receiver.waitFor("failing", 10, 20_000);
    await convert();
    const [notice] = await receiver.waitFor("watcher2", 1, 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 86_400_000 * SCALE);
    expect(new Webhook(watcher.secret).verify(notice!.body, headersOf(notice!.headers))).toMatchObject({
      event: "endpoint.disabled",
      data: { endpoint_id: failing.id, disabled_reason: "failing" },
    });
    const state = await call(stack, "GET", `/api/webhooks/${failing.id}`, { token: net.advertiserToken });
    expect(state.body.data).toMatchObject({ enabled: false, disabled_reason: "failing" });
    expect(Date.parse(state.body.data.failing_since)).toBeLessThan(started + 2000);
    const count = receiver.requests("failing").length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.requests("failing")).toHaveLength(count);
    await call(stack, "DELETE", `/api/webhooks/${failing.id}`, { token: net.advertiserToken });
    await call(stack, "DELETE", `/api/webhooks/${watcher.id}`, { token: net.advertiserToken });
  });

  it("signs with both secrets during a rotation's overlap", async () => {
    const ep = await createEndpoint("rotating", { events: ["test"] });
    const rotated = await call(stack, "POST", `/api/webhooks/${ep.id}/rotate`, {
      token: net.advertiserToken,
      body: { overlap_hours: 1 },
    });
    expect(rotated.status, rotated.text).toBe(201);
    const { secret, previous_secrets_expire_at } = rotated.body.data;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(ep.secret);
    const expiresIn = Date.parse(previous_secrets_expire_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(3_500_000);
    expect(expiresIn).toBeLessThanOrEqual(3_600_000);
    const test = await call(stack, "POST", `/api/webhooks/${ep.id}/test`, { token: net.advertiserToken });
    expect(test.status, test.text).toBe(201);
    const [req] = await receiver.waitFor("rotating", 1);
    const headers = headersOf(req!.headers);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(headers["webhook-id"]).toBe(test.body.data.delivery_id);
    expect(new Webhook(ep.secret).verify(req!.body, headers)).toMatchObject({ event: "test" });
    expect(new Webhook(secret).verify(req!.body, headers)).toMatchObject({ event: "test" });
    // The seed's body signature stays on the secret receivers have until the overlap ends.
    const { signature, ...payload } = JSON.parse(req!.body) as { signature: string };
    expect(verifyWebhook(payload, signature, ep.secret)).toBe(true);
    expect(verifyWebhook(payload, signature, secret)).toBe(false);
    // Without overlap, the old secret stops signing at once.
    const third = await call(stack, "POST", `/api/webhooks/${ep.id}/rotate`, {
      token: net.advertiserToken,
      body: { overlap_hours: 0 },
    });
    await call(stack, "POST", `/api/webhooks/${ep.id}/test`, { token: net.advertiserToken });
    const [, second] = await receiver.waitFor("rotating", 2);
    expect(headersOf(second!.headers)["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(() => new Webhook(secret).verify(second!.body, headersOf(second!.headers))).toThrow();
    const { signature: s2, ...p2 } = JSON.parse(second!.body) as { signature: string };
    expect(verifyWebhook(p2, s2, third.body.data.secret)).toBe(true);
  });
});
