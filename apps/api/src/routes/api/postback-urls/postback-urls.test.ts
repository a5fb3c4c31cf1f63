// Publisher postback URLs end to end: a publisher registers a macro URL, their click converts, and
// the loopback receiver gets the URL with every value URL-encoded and a `{signature}` that the
// documented recipe verifies; statuses filter, POST sends the values as JSON, the log and resend
// are the webhooks' own. Also a publisher's own JSON webhook, which sees payout, not revenue.

import { createHmac } from "node:crypto";
import { createApiKey } from "@afftrack/db";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSigned } from "../../../../../../tests/ingest-support";
import { buildNetwork, call, type Network } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack, waitFor } from "../../../../../../tests/support";
import { startWebhookReceiver, type WebhookReceiver } from "../../../../../../tests/webhook-receiver";

let stack: SharedTestStack;
let receiver: WebhookReceiver;
let net: Network;
let creds: { api_key: string; advertiser_id: string };
let trackingCode: string;

beforeAll(async () => {
  stack = sharedStack("webhooks");
  receiver = await startWebhookReceiver();
  net = await buildNetwork(stack, "Postbacks");
  const key = await createApiKey(stack.db, { tenant_id: net.tenant_id, advertiser_id: net.advertiser_id });
  creds = { api_key: key.key, advertiser_id: net.advertiser_id };
  const joined = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken });
  expect(joined.status, joined.text).toBeLessThan(300);
  trackingCode = joined.body.data.tracking_code;
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

async function click(subs: Record<string, string>): Promise<string> {
  const res = await postSigned(stack, "/api/sdk/click", creds, {
    offer_id: net.offer_id,
    tracking_code: trackingCode,
    ...subs,
  });
  const body = (await res.json()) as { data: { click_id: string } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.click_id;
}

let n = 0;
async function convert(clickId: string, status: string): Promise<{ id: string; transaction_id: string }> {
  n += 1;
  const transaction_id = `txn_pb_${Date.now()}_${n}`;
  const res = await postSigned(stack, "/api/postback", creds, {
    offer_id: net.offer_id,
    transaction_id,
    click_id: clickId,
    amount: 100,
    currency: "USD",
    status,
  });
  const body = (await res.json()) as { data: { conversion_id: string } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { id: body.data.conversion_id, transaction_id };
}

const TEMPLATE =
  "?cid={click_id}&tx={transaction_id}&conv={conversion_id}&s1={sub1}&s2={sub2}&s3={sub3}&payout={payout}" +
  "&cur={currency}&st={status}&off={offer_id}&ev={event_name}&ts={timestamp}&sig={signature}&keep={unknown}";

describe("publisher postback URLs", () => {
  it("fires on the chosen status with URL-encoded macros and a verifiable {signature}", async () => {
    const created = await call(stack, "POST", "/api/postback-urls", {
      token: net.publisherToken,
      body: { url: `${receiver.url("pb-get")}${TEMPLATE}`, statuses: ["approved"] },
    });
    expect(created.status, created.text).toBe(201);
    const { id, secret } = created.body.data;
    expect(created.body.data).toMatchObject({
      method: "GET",
      statuses: ["approved"],
      fire_on: "all",
      owner_type: "publisher",
    });

    const clickId = await click({ sub_id_1: "a b&c=d", sub_id_2: "ü/?#" });
    const conv = await convert(clickId, "pending");
    // Pending is not a chosen status: nothing fires until the approval.
    await new Promise((r) => setTimeout(r, 400));
    expect(receiver.requests("pb-get")).toHaveLength(0);
    const approved = await postSigned(stack, "/api/conversions/status", creds, {
      conversion_id: conv.id,
      status: "approved",
    });
    expect(approved.status).toBe(200);
    const [req] = await receiver.waitFor("pb-get", 1);
    expect(req!.method).toBe("GET");
    expect(req!.url).toContain("s1=a%20b%26c%3Dd&s2=%C3%BC%2F%3F%23&s3=&");
    expect(req!.url).toContain("&keep={unknown}");
    const q = new URL(req!.url, "http://x").searchParams;
    expect(Object.fromEntries(q)).toMatchObject({
      cid: clickId,
      tx: conv.transaction_id,
      conv: conv.id,
      s1: "a b&c=d",
      s2: "ü/?#",
      s3: "",
      payout: "2.5",
      cur: "USD",
      st: "approved",
      off: net.offer_id,
      ev: "conversion",
    });
    const base = `${q.get("conv")}.${q.get("tx")}.${q.get("st")}.${q.get("payout")}.${q.get("cur")}.${q.get("ts")}`;
    expect(q.get("sig")).toBe(createHmac("sha256", secret).update(base).digest("hex"));
    expect(Math.abs(Number(q.get("ts")) - Date.now() / 1000)).toBeLessThan(60);
    expect(req!.headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);

    // The same log and resend as webhooks, with the same URL and id.
    // The attempt is logged once the receiver has answered.
    const log = await waitFor(async () => {
      const r = await call(stack, "GET", `/api/postback-urls/${id}/deliveries`, {
        token: net.publisherToken,
      });
      return r.status === 200 && r.body.data.items[0]?.status !== "pending" ? r : null;
    });
    const [d] = log.body.data.items;
    expect(d).toMatchObject({ status: "succeeded", attempt_count: 1, conversion_id: conv.id });
    expect(d.attempts[0]).toMatchObject({ request_method: "GET", response_status: 200 });
    const resend = await call(stack, "POST", `/api/postback-urls/${id}/deliveries/${d.id}/resend`, {
      token: net.publisherToken,
    });
    expect(resend.status, resend.text).toBe(200);
    const [, again] = await receiver.waitFor("pb-get", 2);
    expect(again!.url).toBe(req!.url);
    expect(again!.headers["webhook-id"]).toBe(d.id);
    await call(stack, "DELETE", `/api/postback-urls/${id}`, { token: net.publisherToken });
  });

  it("POSTs the values as JSON, retries failures like webhooks, and fires on `first` only for a click's first conversion", async () => {
    const created = await call(stack, "POST", "/api/postback-urls", {
      token: net.publisherToken,
      body: {
        url: `${receiver.url("pb-post")}?tx={transaction_id}`,
        method: "POST",
        statuses: ["pending", "approved"],
        fire_on: "first",
        offer_id: net.offer_id,
      },
    });
    expect(created.status, created.text).toBe(201);
    receiver.plan("pb-post", [503]);
    const clickId = await click({ sub_id_1: "x" });
    const conv = await convert(clickId, "pending");
    const reqs = await receiver.waitFor("pb-post", 2);
    expect(reqs[0]!.method).toBe("POST");
    expect(reqs[1]!.headers["webhook-id"]).toBe(reqs[0]!.headers["webhook-id"]);
    expect(JSON.parse(reqs[1]!.body)).toMatchObject({
      transaction_id: conv.transaction_id,
      sub1: "x",
      status: "pending",
    });
    // The offer pays several conversions per click: the second is attributed, but not the first.
    const patched = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { conversions_per_click: 5 },
    });
    expect(patched.status, patched.text).toBe(200);
    const second = await convert(clickId, "approved");
    expect(
      (
        await stack.db
          .selectFrom("conversions")
          .select("publisher_id")
          .where("id", "=", second.id)
          .executeTakeFirstOrThrow()
      ).publisher_id,
    ).toBe(net.publisher_id);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests("pb-post")).toHaveLength(2);
    // With `all`, the same second conversion would have fired.
    await call(stack, "PATCH", `/api/postback-urls/${created.body.data.id}`, {
      token: net.publisherToken,
      body: { fire_on: "all" },
    });
    const third = await convert(clickId, "approved");
    const all = await receiver.waitFor("pb-post", 3);
    expect(JSON.parse(all[2]!.body)).toMatchObject({ transaction_id: third.transaction_id });
    await call(stack, "DELETE", `/api/postback-urls/${created.body.data.id}`, { token: net.publisherToken });
  });

  it("gives a publisher's own webhook their payout, never the advertiser's revenue", async () => {
    const created = await call(stack, "POST", "/api/webhooks", {
      token: net.publisherToken,
      body: { url: receiver.url("pub-hook"), events: ["conversion.created"] },
    });
    expect(created.status, created.text).toBe(201);
    const clickId = await click({ sub_id_3: "s3" });
    const conv = await convert(clickId, "approved");
    const [req] = await receiver.waitFor("pub-hook", 1);
    const body = new Webhook(created.body.data.secret).verify(req!.body, {
      "webhook-id": String(req!.headers["webhook-id"]),
      "webhook-timestamp": String(req!.headers["webhook-timestamp"]),
      "webhook-signature": String(req!.headers["webhook-signature"]),
    }) as { data: Record<string, unknown> };
    expect(body.data).toMatchObject({ conversion_id: conv.id, amount: 2.5, currency: "USD", sub3: "s3" });
    expect(body.data).not.toHaveProperty("payout");
    expect(req!.body).not.toContain(`"amount":100`);
    await call(stack, "DELETE", `/api/webhooks/${created.body.data.id}`, { token: net.publisherToken });
  });

  it("is the publisher's: advertisers are refused, other publishers and networks see 404, private URLs 400", async () => {
    const adv = await call(stack, "POST", "/api/postback-urls", {
      token: net.advertiserToken,
      body: { url: receiver.url("nope") },
    });
    expect(adv.status).toBe(403);
    const priv = await call(stack, "POST", "/api/postback-urls", {
      token: net.publisherToken,
      body: { url: "http://192.168.0.10/pb?tx={transaction_id}" },
    });
    expect(priv.status).toBe(400);
    expect(priv.body.code).toBe("INVALID_PARAMS");
    const hostMacro = await call(stack, "POST", "/api/postback-urls", {
      token: net.publisherToken,
      body: { url: "http://{sub1}.example.com/pb" },
    });
    expect(hostMacro.status).toBe(400);
    const mine = await call(stack, "POST", "/api/postback-urls", {
      token: net.adminToken,
      body: { url: receiver.url("admin-made"), publisher_id: net.publisher_id },
    });
    expect(mine.status, mine.text).toBe(201);
    const other = await buildNetwork(stack, "Foreign");
    expect(
      (await call(stack, "GET", `/api/postback-urls/${mine.body.data.id}`, { token: other.publisherToken }))
        .status,
    ).toBe(404);
    expect(
      (await call(stack, "GET", `/api/postback-urls/${mine.body.data.id}`, { token: net.publisherToken }))
        .status,
    ).toBe(200);
    const logs = await waitFor(async () => {
      const r = await call(stack, "GET", `/api/postback-urls/${mine.body.data.id}/deliveries`, {
        token: other.adminToken,
      });
      return r.status === 404 ? r : null;
    });
    expect(logs.body.code).toBe("NOT_FOUND");
  });
});
