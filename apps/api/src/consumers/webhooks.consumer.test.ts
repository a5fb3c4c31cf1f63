// The `webhooks` queue consumer under at-least-once delivery: the same conversion fact redelivered,
// and a stale attempt message redelivered, never produce a second delivery or a second webhook-id.
// It needs Miniflare's in-process queue producer, so this file starts a stack of its own (like the
// clicks consumer's test).

import { newId, type WebhookQueueMessage } from "@afftrack/core";
import { createEndpoint, insertConversion } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack, waitFor } from "../../../../tests/support";
import { startWebhookReceiver, type WebhookReceiver } from "../../../../tests/webhook-receiver";

let stack: TestStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  stack = await startTestStack({
    apiVars: { WEBHOOK_RETRY_SCALE: "0.00002", WEBHOOK_ALLOW_PRIVATE: "true" },
  });
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

describe("webhooks consumer", () => {
  it("turns a redelivered conversion fact and a redelivered attempt into one webhook-id", async () => {
    const f = await stack.fixture();
    const caller = {
      tenant_id: f.tenant_id,
      role: "advertiser" as const,
      advertiser_id: f.advertiser_id,
      publisher_id: null,
    };
    const { row: endpoint } = await createEndpoint(stack.db, caller, "webhook", {
      url: receiver.url("redelivered"),
      events: ["conversion.created"],
    });
    const conversionId = newId("conv");
    await insertConversion(stack.db, {
      id: conversionId,
      tenant_id: f.tenant_id,
      advertiser_id: f.advertiser_id,
      offer_id: f.offer_id,
      transaction_id: `txn_${conversionId}`,
      click_id: null,
      publisher_id: null,
      tracking_code: null,
      click_verdict: null,
      reported_click_id: null,
      attribution: "no_click",
      status: "approved",
      amount: 10,
      currency: "USD",
      payout: 0,
      payout_currency: "USD",
      revenue_in_rollup: true,
      payout_in_rollup: true,
      source: "postback",
      api_key_id: null,
      user_id: null,
      device_info: null,
      custom_params: null,
      metadata: null,
      sdk_version: null,
      sdk_platform: null,
    });
    // The first attempt fails, so a retry is scheduled while the duplicates arrive.
    receiver.plan("redelivered", [500]);
    const queue = await stack.mf.getQueueProducer<WebhookQueueMessage>("WEBHOOKS", stack.apiConfig.name);
    const fact: WebhookQueueMessage = {
      v: 1,
      kind: "conversion",
      type: "conversion.created",
      conversion_id: conversionId,
      status: "approved",
      previous_status: null,
      occurred_at: Date.now(),
    };
    await queue.sendBatch([{ body: fact }, { body: fact }]);
    const [first] = await receiver.waitFor("redelivered", 1);
    await queue.send(fact);
    await receiver.waitFor("redelivered", 2);
    const id = String(first!.headers["webhook-id"]);
    // A copy of the first attempt's message, redelivered after that attempt was made: stale.
    await queue.send({
      v: 1,
      kind: "deliver",
      delivery_id: id,
      attempt: 0,
      trigger: "scheduled",
      not_before: 0,
    });
    await queue.send({
      v: 1,
      kind: "deliver",
      delivery_id: id,
      attempt: 1,
      trigger: "scheduled",
      not_before: 0,
    });
    await new Promise((r) => setTimeout(r, 1500));
    const requests = receiver.requests("redelivered");
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([id]));
    expect(first!.body).toBe(requests[1]!.body);
    const rows = await waitFor(async () => {
      const list = await stack.db
        .selectFrom("webhook_deliveries")
        .select(["id", "status", "attempt_count"])
        .where("endpoint_id", "=", endpoint.id)
        .execute();
      return list[0]?.status === "succeeded" ? list : null;
    });
    expect(rows).toEqual([{ id, status: "succeeded", attempt_count: 2 }]);
  });
});
