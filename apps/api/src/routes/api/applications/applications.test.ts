// Applications to private offers: a publisher applies, the advertiser or network admin approves
// (the publisher is admitted and may join; a link they kept counts again) or rejects; every role and
// another network see only what is theirs.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildNetwork,
  call,
  linkRecordOf,
  type Network,
  PASSWORD,
  uniqueEmail,
} from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

/** A private offer of the network's advertiser that accepts applications. */
async function privateOffer(net: Network, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await call(stack, "POST", "/api/offers", {
    token: net.advertiserToken,
    body: {
      name: `Private ${Date.now()}`,
      destination_url: "https://example.com/vip",
      payout_amount: 7,
      visibility: "private",
      accepts_applications: true,
      ...extra,
    },
  });
  expect(r.status, r.text).toBe(201);
  expect(r.body.data.accepts_applications).toBe(extra.accepts_applications ?? true);
  return r.body.data.id;
}

/** Another user of a network: an advertiser with their own advertiser, or a publisher. */
async function newUser(
  net: Network,
  role: "advertiser" | "publisher",
): Promise<{ id: string; token: string }> {
  const made = await call(stack, "POST", role === "advertiser" ? "/api/advertisers" : "/api/publishers", {
    token: net.adminToken,
    body: { name: `Second ${role}` },
  });
  const invite = await call(stack, "POST", "/api/invitations", {
    token: net.adminToken,
    body: { email: uniqueEmail(role), role, [`${role}_id`]: made.body.data.id },
  });
  const session = await call(stack, "POST", "/api/auth/accept-invite", {
    body: { invite_token: invite.body.data.invite_token, password: PASSWORD },
  });
  expect(session.status, session.text).toBe(201);
  return { id: made.body.data.id, token: session.body.data.access_token };
}

async function offerAsPublisher(net: Network, offerId: string, token = net.publisherToken) {
  const list = await call(stack, "GET", "/api/offers", { token });
  expect(list.status).toBe(200);
  return (list.body.data.items as Array<{ id: string }>).find((o) => o.id === offerId);
}

const ids = (r: { body: { data: { items: Array<{ id: string }> } } }) => r.body.data.items.map((a) => a.id);

describe("offer applications", () => {
  it("publisher applies, advertiser approves: admitted, joinable, listed for each role", async () => {
    const net = await buildNetwork(stack, "Apply");
    const offerId = await privateOffer(net);
    const hidden = await privateOffer(net, { accepts_applications: false });

    // Listed with "apply", not joinable; a private offer without applications stays hidden.
    expect(await offerAsPublisher(net, offerId)).toMatchObject({
      can_join: false,
      application_status: null,
      joined: false,
    });
    expect(await offerAsPublisher(net, hidden)).toBeUndefined();
    expect((await call(stack, "GET", `/api/offers/${offerId}`, { token: net.publisherToken })).status).toBe(
      200,
    );
    const early = await call(stack, "POST", `/api/offers/${offerId}/join`, { token: net.publisherToken });
    expect(early.status).toBe(403);
    expect(early.body.error).toMatch(/apply/);

    const applied = await call(stack, "POST", `/api/offers/${offerId}/apply`, {
      token: net.publisherToken,
      body: { message: "Coupon site" },
    });
    expect(applied.status, applied.text).toBe(201);
    expect(applied.body.data).toMatchObject({
      id: expect.stringMatching(/^apl_/),
      offer_id: offerId,
      advertiser_id: net.advertiser_id,
      publisher_id: net.publisher_id,
      publisher_name: "Apply Publisher",
      status: "pending",
      message: "Coupon site",
      decided_at: null,
    });
    const appId = applied.body.data.id as string;
    const again = await call(stack, "POST", `/api/offers/${offerId}/apply`, {
      token: net.publisherToken,
      body: {},
    });
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(appId);
    expect(await offerAsPublisher(net, offerId)).toMatchObject({
      can_join: false,
      application_status: "pending",
    });

    // Who sees the pending application.
    for (const token of [net.adminToken, net.advertiserToken, net.publisherToken]) {
      const r = await call(stack, "GET", "/api/applications?status=pending", { token });
      expect(r.status).toBe(200);
      expect(ids(r)).toEqual([appId]);
    }
    const otherAdv = await newUser(net, "advertiser");
    const otherPub = await newUser(net, "publisher");
    const foreign = await buildNetwork(stack, "Foreign");
    for (const token of [otherAdv.token, otherPub.token, foreign.adminToken, foreign.advertiserToken]) {
      expect(ids(await call(stack, "GET", "/api/applications", { token }))).toEqual([]);
    }

    // Who may decide: publishers 403, another advertiser and another network 404.
    const decide = (token: string, body: Record<string, unknown>) =>
      call(stack, "POST", `/api/applications/${appId}/status`, { token, body });
    expect((await decide(net.publisherToken, { status: "approved" })).status).toBe(403);
    for (const token of [otherAdv.token, foreign.adminToken, foreign.advertiserToken]) {
      const r = await decide(token, { status: "approved" });
      expect(r.status).toBe(404);
      expect(r.body.code).toBe("NOT_FOUND");
    }
    expect((await decide(net.advertiserToken, { status: "pending" })).body.code).toBe("INVALID_PARAMS");

    const approved = await decide(net.advertiserToken, { status: "approved" });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body.data).toMatchObject({ status: "approved", decided_at: expect.any(String) });
    const offer = await call(stack, "GET", `/api/offers/${offerId}`, { token: net.advertiserToken });
    expect(offer.body.data.allowed_publisher_ids).toEqual([net.publisher_id]);
    expect(await offerAsPublisher(net, offerId)).toMatchObject({
      can_join: true,
      application_status: "approved",
    });
    expect(
      (await call(stack, "POST", `/api/offers/${offerId}/join`, { token: net.publisherToken })).status,
    ).toBe(201);
    expect(
      ids(await call(stack, "GET", "/api/applications?status=pending", { token: net.adminToken })),
    ).toEqual([]);

    // The same decision again changes nothing; another one is refused.
    expect((await decide(net.adminToken, { status: "approved" })).status).toBe(200);
    const reverse = await decide(net.adminToken, { status: "rejected" });
    expect(reverse.status).toBe(409);
    expect(reverse.body.code).toBe("CONFLICT");
    expect(
      (await call(stack, "GET", `/api/offers/${offerId}`, { token: net.advertiserToken })).body.data
        .allowed_publisher_ids,
    ).toEqual([net.publisher_id]);
  });

  it("a network admin rejects: not admitted, and the publisher cannot apply again", async () => {
    const net = await buildNetwork(stack, "Reject");
    const offerId = await privateOffer(net);
    const applied = await call(stack, "POST", `/api/offers/${offerId}/apply`, {
      token: net.publisherToken,
      body: {},
    });
    const rejected = await call(stack, "POST", `/api/applications/${applied.body.data.id}/status`, {
      token: net.adminToken,
      body: { status: "rejected", reason: "Traffic sources do not fit" },
    });
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.body.data).toMatchObject({ status: "rejected", reason: "Traffic sources do not fit" });
    expect(await offerAsPublisher(net, offerId)).toMatchObject({
      can_join: false,
      application_status: "rejected",
    });
    const again = await call(stack, "POST", `/api/offers/${offerId}/apply`, {
      token: net.publisherToken,
      body: {},
    });
    expect(again.status).toBe(409);
    expect(
      (await call(stack, "POST", `/api/offers/${offerId}/join`, { token: net.publisherToken })).status,
    ).toBe(403);
    const offer = await call(stack, "GET", `/api/offers/${offerId}`, { token: net.adminToken });
    expect(offer.body.data.allowed_publisher_ids).toEqual([]);
  });

  it("refuses what cannot be applied to: open offers 409, closed or foreign ones 404, managers 403", async () => {
    const net = await buildNetwork(stack, "Refuse");
    const apply = (offerId: string, token = net.publisherToken) =>
      call(stack, "POST", `/api/offers/${offerId}/apply`, { token, body: {} });
    const open = await apply(net.offer_id);
    expect(open.status).toBe(409);
    expect(open.body.code).toBe("CONFLICT");
    expect((await apply(await privateOffer(net, { accepts_applications: false }))).status).toBe(404);
    const foreign = await buildNetwork(stack, "Far");
    expect((await apply(await privateOffer(foreign))).status).toBe(404);
    expect((await apply(await privateOffer(net), net.advertiserToken)).status).toBe(403);
    const long = await call(stack, "POST", `/api/offers/${await privateOffer(net)}/apply`, {
      token: net.publisherToken,
      body: { message: "x".repeat(1001) },
    });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ success: false, code: "INVALID_PARAMS" });
    // A suspended publisher earns nothing, so may not apply either (nothing recorded).
    const target = await privateOffer(net);
    const suspend = await call(stack, "PATCH", `/api/publishers/${net.publisher_id}`, {
      token: net.adminToken,
      body: { status: "suspended" },
    });
    expect(suspend.status, suspend.text).toBe(200);
    const suspended = await apply(target);
    expect(suspended.status).toBe(403);
    expect(suspended.body).toMatchObject({ success: false, code: "FORBIDDEN" });
    const queue = await call(stack, "GET", "/api/applications", { token: net.adminToken });
    expect(queue.status).toBe(200);
    expect(queue.body.data.items).toEqual([]);
  });

  it("a publisher removed after approval applies again; approving restores their link at the edge", async () => {
    const net = await buildNetwork(stack, "Readmit");
    const offerId = await privateOffer(net);
    const first = await call(stack, "POST", `/api/offers/${offerId}/apply`, {
      token: net.publisherToken,
      body: {},
    });
    await call(stack, "POST", `/api/applications/${first.body.data.id}/status`, {
      token: net.advertiserToken,
      body: { status: "approved" },
    });
    const joined = await call(stack, "POST", `/api/offers/${offerId}/join`, { token: net.publisherToken });
    const code = joined.body.data.tracking_code as string;
    expect((await linkRecordOf(stack, code))?.status).toBe("active");
    await call(stack, "PATCH", `/api/offers/${offerId}`, {
      token: net.advertiserToken,
      body: { allowed_publisher_ids: [] },
    });
    expect((await linkRecordOf(stack, code))?.status).toBe("paused");

    const second = await call(stack, "POST", `/api/offers/${offerId}/apply`, {
      token: net.publisherToken,
      body: {},
    });
    expect(second.status).toBe(201);
    expect(second.body.data).toMatchObject({ id: first.body.data.id, status: "pending", decided_at: null });
    const approved = await call(stack, "POST", `/api/applications/${first.body.data.id}/status`, {
      token: net.adminToken,
      body: { status: "approved" },
    });
    expect(approved.status).toBe(200);
    expect((await linkRecordOf(stack, code))?.status).toBe("active");
  });

  it("pages the decision queue with the cursor", async () => {
    const net = await buildNetwork(stack, "Queue");
    const pubs = await Promise.all([1, 2, 3].map(() => newUser(net, "publisher")));
    const offerId = await privateOffer(net);
    for (const p of pubs) {
      const r = await call(stack, "POST", `/api/offers/${offerId}/apply`, { token: p.token, body: {} });
      expect(r.status).toBe(201);
    }
    const first = await call(stack, "GET", "/api/applications?status=pending&limit=2", {
      token: net.advertiserToken,
    });
    expect(first.body.data.items).toHaveLength(2);
    const next = await call(
      stack,
      "GET",
      `/api/applications?status=pending&limit=2&cursor=${encodeURIComponent(first.body.data.next_cursor)}`,
      { token: net.advertiserToken },
    );
    expect(next.body.data.items).toHaveLength(1);
    expect(next.body.data.next_cursor).toBeNull();
    expect(new Set([...ids(first), ...ids(next)]).size).toBe(3);
  });
});
