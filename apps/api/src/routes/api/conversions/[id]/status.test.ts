// POST /api/conversions/{id}/status: a signed-in advertiser or network admin approves or rejects,
// with the same history, rollup and webhook as the API-key route; publishers, other advertisers and
// other networks are refused.

import { createApiKey } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionRow, json, postSigned, statsRow } from "../../../../../../../tests/ingest-support";
import { buildNetwork, call, type Network } from "../../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../../tests/support";
import { startWebhookReceiver, type WebhookReceiver } from "../../../../../../../tests/webhook-receiver";

let stack: SharedTestStack;
let receiver: WebhookReceiver;
let net: Network;
let creds: { api_key: string; advertiser_id: string };
let trackingCode: string;
let n = 0;

beforeAll(async () => {
  // The webhooks stack delivers to the loopback receiver.
  stack = sharedStack("webhooks");
  receiver = await startWebhookReceiver();
  net = await buildNetwork(stack, "Approvals");
  const key = await createApiKey(stack.db, { tenant_id: net.tenant_id, advertiser_id: net.advertiser_id });
  creds = { api_key: key.key, advertiser_id: net.advertiser_id };
  const joined = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken });
  trackingCode = joined.body.data.tracking_code;
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

/** A pending conversion on a click of the network's publisher. */
async function pendingConversion(amount = 50): Promise<string> {
  n += 1;
  const click = await json(
    await postSigned(stack, "/api/sdk/click", creds, { offer_id: net.offer_id, tracking_code: trackingCode }),
  );
  const res = await postSigned(stack, "/api/postback", creds, {
    offer_id: net.offer_id,
    click_id: click.data.click_id,
    transaction_id: `txn_ui_${Date.now()}_${n}`,
    amount,
    currency: "USD",
    status: "pending",
  });
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.conversion_id;
}

const setStatus = (id: string, token: string, body: Record<string, unknown>) =>
  call(stack, "POST", `/api/conversions/${id}/status`, { token, body });

describe("POST /api/conversions/{id}/status", () => {
  it("lets the advertiser approve then reverse, moves the rollup, keeps the history and sends the webhook", async () => {
    const hook = await call(stack, "POST", "/api/webhooks", {
      token: net.advertiserToken,
      body: { url: receiver.url("ui-status"), events: ["conversion.updated"] },
    });
    expect(hook.status, hook.text).toBe(201);
    const before = Number(
      (await statsRow(stack, { offer_id: net.offer_id, publisher_id: net.publisher_id }))?.conversions ?? 0,
    );
    const id = await pendingConversion(50);

    const approve = await setStatus(id, net.advertiserToken, { status: "approved" });
    expect(approve.status, approve.text).toBe(200);
    expect(approve.body).toMatchObject({
      success: true,
      data: { conversion_id: id, previous_status: "pending", status: "approved" },
    });
    expect(await statsRow(stack, { offer_id: net.offer_id, publisher_id: net.publisher_id })).toMatchObject({
      conversions: before + 1,
    });
    const [delivered] = await receiver.waitFor("ui-status", 1);
    const payload = JSON.parse(delivered?.body ?? "{}");
    expect(payload).toMatchObject({ event: "conversion.updated" });
    expect(JSON.stringify(payload)).toContain(id);

    // Approving again changes nothing; a reversal is allowed; rejected is final.
    const same = await setStatus(id, net.advertiserToken, { status: "approved" });
    expect(same.body.data).toMatchObject({ previous_status: "approved", status: "approved" });
    const reverse = await setStatus(id, net.advertiserToken, { status: "rejected", reason: "refund" });
    expect(reverse.status).toBe(200);
    expect(await statsRow(stack, { offer_id: net.offer_id, publisher_id: net.publisher_id })).toMatchObject({
      conversions: before,
    });
    const again = await setStatus(id, net.advertiserToken, { status: "approved" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ success: false, code: "CONFLICT" });
    expect((await conversionRow(stack, id)).status).toBe("rejected");

    const history = await stack.db
      .selectFrom("conversion_status_history")
      .select(["from_status", "to_status", "reason", "source"])
      .where("conversion_id", "=", id)
      .orderBy("id")
      .execute();
    expect(history).toEqual([
      { from_status: null, to_status: "pending", reason: null, source: "postback" },
      { from_status: "pending", to_status: "approved", reason: null, source: "dashboard" },
      { from_status: "approved", to_status: "rejected", reason: "refund", source: "dashboard" },
    ]);
  });

  it("lets the network admin decide any conversion of the network, without the offer's IP allowlist", async () => {
    await stack.db
      .updateTable("offers")
      .set({ postback_ip_allowlist: ["192.0.2.0/28"] })
      .where("id", "=", net.offer_id)
      .execute();
    try {
      const id = await postbackFromAllowlisted();
      const res = await setStatus(id, net.adminToken, { status: "rejected" });
      expect(res.status, res.text).toBe(200);
      expect((await conversionRow(stack, id)).status).toBe("rejected");
    } finally {
      await stack.db
        .updateTable("offers")
        .set({ postback_ip_allowlist: [] })
        .where("id", "=", net.offer_id)
        .execute();
    }
  });

  it("refuses publishers (403), another advertiser and another network (404), no token (401), bad bodies (400)", async () => {
    const id = await pendingConversion();
    const pub = await setStatus(id, net.publisherToken, { status: "approved" });
    expect(pub.status).toBe(403);
    expect(pub.body.code).toBe("FORBIDDEN");

    // A second advertiser of the same network.
    const adv2 = await call(stack, "POST", "/api/advertisers", {
      token: net.adminToken,
      body: { name: "Second" },
    });
    const invite = await call(stack, "POST", "/api/invitations", {
      token: net.adminToken,
      body: {
        email: `adv2-${Date.now()}@example.test`,
        role: "advertiser",
        advertiser_id: adv2.body.data.id,
      },
    });
    const session = await call(stack, "POST", "/api/auth/accept-invite", {
      body: { invite_token: invite.body.data.invite_token, password: "s3cret-passw0rd" },
    });
    const other = await setStatus(id, session.body.data.access_token, { status: "approved" });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe("NOT_FOUND");

    const foreign = await buildNetwork(stack, "Elsewhere");
    for (const token of [foreign.adminToken, foreign.advertiserToken]) {
      const r = await setStatus(id, token, { status: "approved" });
      expect(r.status).toBe(404);
    }
    expect(
      (await call(stack, "POST", `/api/conversions/${id}/status`, { body: { status: "approved" } })).status,
    ).toBe(401);

    const bad = await setStatus(id, net.advertiserToken, { status: "pending" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, code: "INVALID_PARAMS" });
    expect(bad.body.error).toContain("status");
    expect((await conversionRow(stack, id)).status).toBe("pending");
  });

  it("refuses a suspended advertiser's users (403, nothing changes), as their API keys are", async () => {
    const own = await buildNetwork(stack, "Suspended advertiser");
    const key = await createApiKey(stack.db, { tenant_id: own.tenant_id, advertiser_id: own.advertiser_id });
    const ownCreds = { api_key: key.key, advertiser_id: own.advertiser_id };
    const joined = await call(stack, "POST", `/api/offers/${own.offer_id}/join`, {
      token: own.publisherToken,
    });
    const click = await json(
      await postSigned(stack, "/api/sdk/click", ownCreds, {
        offer_id: own.offer_id,
        tracking_code: joined.body.data.tracking_code,
      }),
    );
    const posted = await json(
      await postSigned(stack, "/api/postback", ownCreds, {
        offer_id: own.offer_id,
        click_id: click.data.click_id,
        transaction_id: `txn_susp_${Date.now()}`,
        amount: 20,
        currency: "USD",
        status: "pending",
      }),
    );
    const id = posted.data.conversion_id as string;
    const suspend = await call(stack, "PATCH", `/api/advertisers/${own.advertiser_id}`, {
      token: own.adminToken,
      body: { status: "suspended" },
    });
    expect(suspend.status, suspend.text).toBe(200);
    const refused = await setStatus(id, own.advertiserToken, { status: "approved" });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ success: false, code: "FORBIDDEN" });
    expect((await conversionRow(stack, id)).status).toBe("pending");
  });
});

/** A pending conversion posted from inside the offer's allowlist. */
async function postbackFromAllowlisted(): Promise<string> {
  n += 1;
  const res = await postSigned(
    stack,
    "/api/postback",
    creds,
    {
      offer_id: net.offer_id,
      transaction_id: `txn_ip_${Date.now()}_${n}`,
      amount: 10,
      currency: "USD",
      status: "pending",
    },
    { ip: "192.0.2.1" },
  );
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.conversion_id;
}
