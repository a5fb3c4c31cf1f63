// A real webhook delivery from the stack's sender (a conversion → the webhooks queue → a loopback
// receiver), verified by the SDK's independent verifier in both styles it is signed with.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call } from "../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../tests/support";
import { startWebhookReceiver, type WebhookReceiver } from "../../../tests/webhook-receiver";
import {
  createApiClient,
  createIngestClient,
  randomNonce,
  verifySeedWebhook,
  verifyWebhook,
} from "../src/index";

let stack: SharedTestStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = sharedStack();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

describe("webhook verification of a real delivery", () => {
  it("verifies the Standard Webhooks headers and the seed signature of a conversion.created", async () => {
    const net = await buildNetwork(stack, "SDK hooks");
    const endpoint = await call(stack, "POST", "/api/webhooks", {
      token: net.advertiserToken,
      body: { url: receiver.url("sdk"), events: ["conversion.created"] },
    });
    expect(endpoint.status, endpoint.text).toBe(201);
    const secret = endpoint.body.data.secret as string;

    const key = await createApiClient({ baseUrl: stack.apiUrl, token: net.advertiserToken }).POST(
      "/api/api-keys",
      {
        body: {},
      },
    );
    const ingest = createIngestClient({
      baseUrl: stack.apiUrl,
      apiKey: key.data?.data.key as string,
      advertiserId: net.advertiser_id,
      signingSecret: key.data?.data.signing_secret as string,
    });
    const transaction_id = `txn_${randomNonce(16)}`;
    const conv = await ingest.postback({ offer_id: net.offer_id, transaction_id, amount: 29.99 });
    expect(conv.ok).toBe(true);

    const [delivery] = await receiver.waitFor("sdk", 1);
    if (!delivery) throw new Error("no delivery");
    const headers = Object.fromEntries(
      Object.entries(delivery.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(" ") : (v ?? "")]),
    );
    const event = await verifyWebhook({ secret, headers, body: delivery.body });
    expect(event).toMatchObject({ event: "conversion.created", data: { transaction_id } });
    expect(await verifySeedWebhook(secret, event)).toBe(true);

    // The same delivery with one byte changed, or checked with another secret, is refused.
    await expect(
      verifyWebhook({ secret, headers, body: delivery.body.replace("29.99", "92.99") }),
    ).rejects.toThrow();
    await expect(
      verifyWebhook({ secret: `whsec_${btoa("another secret of 24 b")}`, headers, body: delivery.body }),
    ).rejects.toThrow();
  });
});
