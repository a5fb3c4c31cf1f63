// GET /api/stats/stream: the live event stream over a WebSocket from the tenant's LiveChannel.
// A click written by the consumer reaches every socket allowed to see it within a second, scoped
// by role like the stats; other tenants' sockets and other publishers see nothing.

import { signJwt } from "@afftrack/core";
import { createApiKey } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { postSigned } from "../../../../../../tests/ingest-support";
import {
  buildNetwork,
  call,
  type Network,
  PASSWORD,
  uniqueEmail,
  visitLink,
} from "../../../../../../tests/management-helpers";
import { clickIdOf, clickRow, type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;
let net: Network;
let other: Network;

beforeAll(async () => {
  stack = sharedStack();
  [net, other] = await Promise.all([buildNetwork(stack, "Live"), buildNetwork(stack, "Live other")]);
});
afterAll(() => stack.close());

interface Received {
  at: number;
  // biome-ignore lint/suspicious/noExplicitAny: messages are checked field by field
  message: any;
}

/** A connected socket collecting what it receives, with the time each message arrived. */
async function connect(token: string, how: "header" | "protocol" = "header") {
  const url = `${stack.apiUrl.replace(/^http/, "ws")}/api/stats/stream`;
  const ws =
    how === "header"
      ? new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
      : new WebSocket(url, ["afftrack.live.v1", `bearer.${token}`]);
  const received: Received[] = [];
  ws.on("message", (data) => {
    const text = String(data);
    received.push({ at: Date.now(), message: text.startsWith("{") ? JSON.parse(text) : text });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const clickOf = (clickId: string) =>
    received.find(
      (r) =>
        r.message.type === "events" &&
        r.message.events.some((e: { click_id?: string }) => e.click_id === clickId),
    );
  const conversionOf = (conversionId: string, change: "created" | "updated") =>
    received.find(
      (r) =>
        r.message.type === "events" &&
        r.message.events.some(
          (e: { conversion_id?: string; change?: string }) =>
            e.conversion_id === conversionId && e.change === change,
        ),
    );
  return { ws, received, clickOf, conversionOf };
}

async function joinedLink(token: string, offerId: string): Promise<string> {
  const res = await call(stack, "POST", `/api/offers/${offerId}/join`, { token });
  expect([200, 201]).toContain(res.status);
  return res.body.data.signed_link as string;
}

describe("GET /api/stats/stream", () => {
  it("pushes a click to the sockets allowed to see it within a second of its row being written", async () => {
    // A second publisher of the same network, with their own user.
    const pub2 = await call(stack, "POST", "/api/publishers", {
      token: net.adminToken,
      body: { name: "Other pub" },
    });
    const invite = await call(stack, "POST", "/api/invitations", {
      token: net.adminToken,
      body: { email: uniqueEmail("pub2"), role: "publisher", publisher_id: pub2.body.data.id },
    });
    const session = await call(stack, "POST", "/api/auth/accept-invite", {
      body: { invite_token: invite.body.data.invite_token, password: PASSWORD },
    });
    const admin = await connect(net.adminToken);
    const advertiser = await connect(net.advertiserToken, "protocol");
    const publisher = await connect(net.publisherToken);
    const otherPublisher = await connect(session.body.data.access_token);
    const otherTenant = await connect(other.adminToken);
    expect(admin.received[0]?.message).toEqual({
      type: "hello",
      tenant_id: net.tenant_id,
      role: "network_admin",
    });
    expect(advertiser.ws.protocol).toBe("afftrack.live.v1");

    const link = await joinedLink(net.publisherToken, net.offer_id);
    const res = await visitLink(stack, link);
    expect(res.status).toBe(302);
    const clickId = clickIdOf(res.headers.get("location"));
    const row = await clickRow(stack.db, clickId);

    for (const socket of [admin, advertiser, publisher]) {
      const got = await waitForMessage(() => socket.clickOf(clickId));
      expect(got.at - row.inserted_at.getTime()).toBeLessThan(1000);
      const event = got.message.events.find((e: { click_id: string }) => e.click_id === clickId);
      expect(event).toMatchObject({
        type: "click",
        offer_id: net.offer_id,
        publisher_id: net.publisher_id,
        advertiser_id: net.advertiser_id,
        verdict: "valid",
        counted: true,
      });
    }
    // Give the others the same time to (wrongly) receive it.
    await new Promise((r) => setTimeout(r, 500));
    expect(otherPublisher.clickOf(clickId)).toBeUndefined();
    expect(otherTenant.clickOf(clickId)).toBeUndefined();
    expect(otherTenant.received.some((r) => r.message.type === "events")).toBe(false);
    for (const s of [admin, advertiser, publisher, otherPublisher, otherTenant]) s.ws.close();
  });

  it("pushes a postback's conversion and its status change; the publisher's without the sale", async () => {
    const admin = await connect(net.adminToken);
    const publisher = await connect(net.publisherToken);
    const otherTenant = await connect(other.adminToken);
    const link = await joinedLink(net.publisherToken, net.offer_id);
    const clickId = clickIdOf((await visitLink(stack, link)).headers.get("location"));
    await clickRow(stack.db, clickId);
    const key = await createApiKey(stack.db, { tenant_id: net.tenant_id, advertiser_id: net.advertiser_id });
    const creds = { api_key: key.key, advertiser_id: net.advertiser_id };
    const res = await postSigned(stack, "/api/postback", creds, {
      offer_id: net.offer_id,
      click_id: clickId,
      transaction_id: `txn_live_${Date.now()}`,
      amount: 42.5,
      currency: "EUR",
      status: "pending",
    });
    const body = (await res.json()) as { data: { conversion_id: string } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    const conversionId = body.data.conversion_id;
    const eventOf = (r: Received, change: string) =>
      r.message.events.find(
        (e: { conversion_id?: string; change?: string }) =>
          e.conversion_id === conversionId && e.change === change,
      );
    const seenByAdmin = eventOf(
      await waitForMessage(() => admin.conversionOf(conversionId, "created")),
      "created",
    );
    expect(seenByAdmin).toMatchObject({
      type: "conversion",
      change: "created",
      offer_id: net.offer_id,
      publisher_id: net.publisher_id,
      advertiser_id: net.advertiser_id,
      status: "pending",
      previous_status: null,
      amount: 42.5,
      currency: "EUR",
    });
    const seenByPublisher = eventOf(
      await waitForMessage(() => publisher.conversionOf(conversionId, "created")),
      "created",
    );
    expect(seenByPublisher).toMatchObject({
      type: "conversion",
      status: "pending",
      payout: seenByAdmin.payout,
    });
    expect(seenByPublisher).not.toHaveProperty("amount");
    expect(seenByPublisher).not.toHaveProperty("currency");

    const changed = await postSigned(stack, "/api/conversions/status", creds, {
      conversion_id: conversionId,
      status: "approved",
    });
    expect(changed.status).toBe(200);
    for (const socket of [admin, publisher]) {
      const got = eventOf(
        await waitForMessage(() => socket.conversionOf(conversionId, "updated")),
        "updated",
      );
      expect(got).toMatchObject({ change: "updated", status: "approved", previous_status: "pending" });
    }
    expect(
      otherTenant.received.some((r) => r.message.type === "events" && eventOf(r, "created") !== undefined),
    ).toBe(false);
    for (const s of [admin, publisher, otherTenant]) s.ws.close();
  });

  it("closes a socket once its access token has expired, instead of sending it events", async () => {
    const shortLived = await signJwt(
      { sub: "usr_short", role: "network_admin", tenant_id: net.tenant_id },
      stack.jwtSecret,
      { ttlSeconds: 2 },
    );
    const socket = await connect(shortLived);
    const closed = new Promise<number>((resolve) => socket.ws.on("close", (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 2500));
    const link = await joinedLink(net.publisherToken, net.offer_id);
    const res = await visitLink(stack, link);
    const clickId = clickIdOf(res.headers.get("location"));
    await clickRow(stack.db, clickId);
    expect(await closed).toBe(4401);
    expect(socket.clickOf(clickId)).toBeUndefined();
  });

  it("answers ping with pong", async () => {
    const socket = await connect(net.adminToken);
    const pong = new Promise<string>((resolve) =>
      socket.ws.on("message", (d) => String(d) === "pong" && resolve("pong")),
    );
    socket.ws.send("ping");
    expect(await pong).toBe("pong");
    socket.ws.close();
  });

  it("refuses a missing or bad token, and a plain GET, in the envelope", async () => {
    const url = `${stack.apiUrl}/api/stats/stream`;
    const refusal = (protocols: string[]) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(url.replace(/^http/, "ws"), protocols);
        ws.once("open", () => reject(new Error("opened")));
        ws.once("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (d: Buffer) => {
            body += String(d);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
    for (const protocols of [["afftrack.live.v1"], ["afftrack.live.v1", "bearer.not-a-jwt"]]) {
      const { status, body } = await refusal(protocols);
      expect(status).toBe(401);
      expect(JSON.parse(body)).toMatchObject({ success: false, code: "UNAUTHORIZED" });
    }
    const plain = await fetch(url, { headers: { authorization: `Bearer ${net.adminToken}` } });
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { code: string }).code).toBe("INVALID_PARAMS");
  });
});

async function waitForMessage(probe: () => Received | undefined, timeoutMs = 5000): Promise<Received> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error("no live event arrived");
    await new Promise((r) => setTimeout(r, 20));
  }
}
