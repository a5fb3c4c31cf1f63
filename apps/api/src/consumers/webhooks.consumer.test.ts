// The `webhooks` queue consumer under at-least-once delivery: the same conversion fact redelivered,
// and a stale attempt message redelivered, never produce a second delivery or a second webhook-id.
// It needs Miniflare's in-process queue producer, so this file starts a stack of its own (like the
// clicks consumer's test).

import {
  type ClickBatchMessage,
  type ClickEvent,
  newId,
  parseSecretKeyring,
  type SecretKeyring,
  type WebhookQueueMessage,
} from "@afftrack/core";
import { createEndpoint, insertConversion, type NewConversion, resealWebhookSecrets } from "@afftrack/db";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fixture } from "../../../../packages/devstack/src/fixtures";
import {
  clickEvent,
  clickRow,
  conversionRowOn,
  startTestStack,
  type TestStack,
  waitFor,
} from "../../../../tests/support";
import { startWebhookReceiver, type WebhookReceiver } from "../../../../tests/webhook-receiver";

let stack: TestStack;
let receiver: WebhookReceiver;
let ring: SecretKeyring;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  stack = await startTestStack({
    apiVars: { WEBHOOK_RETRY_SCALE: "0.00002", WEBHOOK_ALLOW_PRIVATE: "true" },
  });
  ring = await parseSecretKeyring(stack.webhookSecretsKey);
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

function conversion(f: Fixture, id: string, click?: ClickEvent): NewConversion {
  return conversionRowOn(f, click ?? null, { id, transaction_id: `txn_${id}`, amount: 10, payout: 0 });
}

const advertiserOf = (f: Fixture) => ({
  tenant_id: f.tenant_id,
  role: "advertiser" as const,
  advertiser_id: f.advertiser_id,
  publisher_id: null,
});
const publisherOf = (f: Fixture) => ({
  tenant_id: f.tenant_id,
  role: "publisher" as const,
  advertiser_id: null,
  publisher_id: f.publisher_id,
});

function headersOf(h: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]),
  );
}

describe("webhooks consumer", () => {
  it("turns a redelivered conversion fact and a redelivered attempt into one webhook-id", async () => {
    const f = await stack.fixture();
    const caller = {
      tenant_id: f.tenant_id,
      role: "advertiser" as const,
      advertiser_id: f.advertiser_id,
      publisher_id: null,
    };
    const { row: endpoint } = await createEndpoint(
      stack.db,
      caller,
      "webhook",
      { url: receiver.url("redelivered"), events: ["conversion.created"] },
      ring,
    );
    const conversionId = newId("conv");
    await insertConversion(stack.db, conversion(f, conversionId));
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
    // The same event (each attempt's body is stamped with its own send time and signed again).
    const unstamped = (body: string) => {
      const { timestamp: _t, signature: _s, ...rest } = JSON.parse(body) as Record<string, unknown>;
      return rest;
    };
    expect(unstamped(first!.body)).toEqual(unstamped(requests[1]!.body));
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

  it("emits fraud.detected once per click and kind after a click batch commits, to the advertiser and the publisher", async () => {
    const f = await stack.fixture();
    const { row: adv, secret: advSecret } = await createEndpoint(
      stack.db,
      advertiserOf(f),
      "webhook",
      { url: receiver.url("fraud-adv"), events: ["fraud.detected"] },
      ring,
    );
    const { row: pub } = await createEndpoint(
      stack.db,
      publisherOf(f),
      "webhook",
      { url: receiver.url("fraud-pub"), events: ["fraud.detected"] },
      ring,
    );
    // Subscribed to conversions only: hears nothing of fraud.
    await createEndpoint(
      stack.db,
      advertiserOf(f),
      "webhook",
      { url: receiver.url("fraud-none"), events: ["conversion.created"] },
      ring,
    );
    const clicks = [
      clickEvent(f, { verdict: "expired" }),
      clickEvent(f, { verdict: "valid", flags: ["ip_frequency"] }),
      clickEvent(f, { verdict: "datacenter", flags: ["datacenter", "link_frequency"] }),
      clickEvent(f),
      clickEvent(f),
    ];
    const queue = await stack.mf.getQueueProducer<ClickBatchMessage>("CLICKS", stack.apiConfig.name);
    await queue.send({ v: 1, clicks });
    // expired; ip_frequency; datacenter (verdict and flag: one kind) + link_frequency.
    const got = await receiver.waitFor("fraud-adv", 4);
    await receiver.waitFor("fraud-pub", 4);
    const bodies = got.map(
      (r) =>
        new Webhook(advSecret).verify(r.body, headersOf(r.headers)) as {
          event: string;
          data: { kind: string; click_id: string; verdict: string; flags: string[]; advertiser_id?: string };
        },
    );
    expect(bodies.every((b) => b.event === "fraud.detected")).toBe(true);
    expect(bodies.map((b) => `${b.data.click_id}:${b.data.kind}`).sort()).toEqual(
      [
        `${clicks[0]!.click_id}:expired`,
        `${clicks[1]!.click_id}:ip_frequency`,
        `${clicks[2]!.click_id}:datacenter`,
        `${clicks[2]!.click_id}:link_frequency`,
      ].sort(),
    );
    const dc = bodies.find((b) => b.data.kind === "link_frequency")!;
    expect(dc.data).toMatchObject({
      verdict: "datacenter",
      flags: ["datacenter", "link_frequency"],
      advertiser_id: f.advertiser_id,
    });
    const pubBody = JSON.parse(receiver.requests("fraud-pub")[0]!.body) as { data: Record<string, unknown> };
    expect(pubBody.data.advertiser_id).toBeUndefined();
    expect(pubBody.data.publisher_id).toBe(f.publisher_id);
    // The same clicks redelivered (alone, and in another batch): no new event, no new webhook-id.
    await queue.send({ v: 1, clicks });
    await queue.send({ v: 1, clicks: [clicks[2]!, clickEvent(f)] });
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.requests("fraud-adv")).toHaveLength(4);
    expect(receiver.requests("fraud-pub")).toHaveLength(4);
    expect(receiver.requests("fraud-none")).toHaveLength(0);
    const rows = await stack.db
      .selectFrom("webhook_deliveries")
      .select(["endpoint_id", "event_type", "status"])
      .where("endpoint_id", "in", [adv.id, pub.id])
      .execute();
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.event_type === "fraud.detected" && r.status === "succeeded")).toBe(true);
  });

  it("emits fraud.detected for a conversion a time rule flagged, with the conversion", async () => {
    const f = await stack.fixture();
    await createEndpoint(
      stack.db,
      advertiserOf(f),
      "webhook",
      { url: receiver.url("fraud-conv"), events: ["fraud.detected", "conversion.created"] },
      ring,
    );
    const click = clickEvent(f);
    const clicks = await stack.mf.getQueueProducer<ClickBatchMessage>("CLICKS", stack.apiConfig.name);
    await clicks.send({ v: 1, clicks: [click] });
    await clickRow(stack.db, click.click_id);
    const id = newId("conv");
    await insertConversion(stack.db, conversion(f, id, click), {
      conversionsPerClick: null,
      fraud: { kind: "conversion_too_fast", detail: { seconds: 1 } },
    });
    const queue = await stack.mf.getQueueProducer<WebhookQueueMessage>("WEBHOOKS", stack.apiConfig.name);
    const fact: WebhookQueueMessage = {
      v: 1,
      kind: "conversion",
      type: "conversion.created",
      conversion_id: id,
      status: "approved",
      previous_status: null,
      occurred_at: Date.now(),
    };
    await queue.send(fact);
    const got = await receiver.waitFor("fraud-conv", 2);
    const events = got.map((r) => JSON.parse(r.body) as { event: string; data: Record<string, unknown> });
    const fraud = events.find((e) => e.event === "fraud.detected");
    expect(fraud?.data).toMatchObject({
      kind: "conversion_too_fast",
      click_id: click.click_id,
      conversion_id: id,
      verdict: "valid",
    });
    expect(events.map((e) => e.event).sort()).toEqual(["conversion.created", "fraud.detected"]);
    await queue.send(fact);
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requests("fraud-conv")).toHaveLength(2);
  });

  it("reads a plaintext secret from before encryption, then seals it: deliveries verify throughout", async () => {
    const f = await stack.fixture();
    const { row, secret } = await createEndpoint(
      stack.db,
      advertiserOf(f),
      "webhook",
      { url: receiver.url("legacy"), events: ["conversion.created"] },
      null,
    );
    const before = await stack.db
      .selectFrom("webhook_secrets")
      .select(["secret", "key_id"])
      .where("endpoint_id", "=", row.id)
      .executeTakeFirstOrThrow();
    expect(before).toEqual({ secret, key_id: null });
    const queue = await stack.mf.getQueueProducer<WebhookQueueMessage>("WEBHOOKS", stack.apiConfig.name);
    const send = async () => {
      const id = newId("conv");
      await insertConversion(stack.db, conversion(f, id));
      await queue.send({
        v: 1,
        kind: "conversion",
        type: "conversion.created",
        conversion_id: id,
        status: "approved",
        previous_status: null,
        occurred_at: Date.now(),
      });
    };
    await send();
    const [first] = await receiver.waitFor("legacy", 1);
    expect(() => new Webhook(secret).verify(first!.body, headersOf(first!.headers))).not.toThrow();
    expect(await resealWebhookSecrets(stack.db, ring)).toBeGreaterThanOrEqual(1);
    const after = await stack.db
      .selectFrom("webhook_secrets")
      .select(["secret", "key_id"])
      .where("endpoint_id", "=", row.id)
      .executeTakeFirstOrThrow();
    expect(after.key_id).toBe(ring.current);
    expect(after.secret).not.toContain(secret.slice("whsec_".length));
    await send();
    const [, second] = await receiver.waitFor("legacy", 2);
    expect(() => new Webhook(secret).verify(second!.body, headersOf(second!.headers))).not.toThrow();
  });
  it("one conversion whose endpoint secret cannot be opened fails alone; the batch's others deliver", async () => {
    const good = await stack.fixture();
    const poisoned = await stack.fixture();
    await createEndpoint(
      stack.db,
      advertiserOf(good),
      "webhook",
      { url: receiver.url("batch-good"), events: ["conversion.created"] },
      ring,
    );
    const bad = await createEndpoint(
      stack.db,
      advertiserOf(poisoned),
      "webhook",
      { url: receiver.url("batch-bad"), events: ["conversion.created"] },
      ring,
    );
    // Sealed under a key the deployment no longer has: this endpoint's fan-out throws.
    await stack.db
      .updateTable("webhook_secrets")
      .set({ key_id: "gone" })
      .where("endpoint_id", "=", bad.row.id)
      .execute();
    const goodId = newId("conv");
    const badId = newId("conv");
    await insertConversion(stack.db, conversion(good, goodId));
    await insertConversion(stack.db, conversion(poisoned, badId));
    const queue = await stack.mf.getQueueProducer<WebhookQueueMessage>("WEBHOOKS", stack.apiConfig.name);
    const fact = (id: string): WebhookQueueMessage => ({
      v: 1,
      kind: "conversion",
      type: "conversion.created",
      conversion_id: id,
      status: "approved",
      previous_status: null,
      occurred_at: Date.now(),
    });
    await queue.sendBatch([{ body: fact(badId) }, { body: fact(goodId) }]);
    const [delivered] = await receiver.waitFor("batch-good", 1);
    expect(JSON.parse(delivered!.body).data.conversion_id).toBe(goodId);
    expect(receiver.requests("batch-bad")).toHaveLength(0);
    // The unsignable one is not lost silently: its attempt is logged with the reason (and retried).
    await waitFor(
      async () =>
        (
          await stack.db
            .selectFrom("webhook_attempts as a")
            .innerJoin("webhook_deliveries as d", "d.id", "a.delivery_id")
            .select("a.error")
            .where("d.endpoint_id", "=", bad.row.id)
            .execute()
        ).some((a) => a.error?.includes("signing secret unavailable")),
      10_000,
      "the unsignable delivery's failed attempt",
    );
  });
});
