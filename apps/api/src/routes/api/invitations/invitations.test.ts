// /api/invitations and /api/auth/accept-invite: an admin invites a user bound to an account of
// the network, who accepts once and gets a session scoped to it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, PASSWORD, uniqueEmail } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("invitations", () => {
  it("an admin invites an advertiser user who accepts once and gets a token scoped to that advertiser", async () => {
    const net = await buildNetwork(stack);
    const email = uniqueEmail("colleague");
    const invite = await call(stack, "POST", "/api/invitations", {
      token: net.adminToken,
      body: { email, role: "advertiser", advertiser_id: net.advertiser_id },
    });
    expect(invite.status).toBe(201);
    expect(invite.body.data).toMatchObject({
      email,
      role: "advertiser",
      advertiser_id: net.advertiser_id,
      status: "pending",
    });
    const token = invite.body.data.invite_token;
    const stored = await stack.db
      .selectFrom("invitations")
      .select("token_hash")
      .where("id", "=", invite.body.data.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toBe(token);

    const accepted = await call(stack, "POST", "/api/auth/accept-invite", {
      body: { invite_token: token, password: PASSWORD, name: "Colleague" },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.data.user).toMatchObject({
      email,
      role: "advertiser",
      advertiser_id: net.advertiser_id,
      tenant_id: net.tenant_id,
    });
    const offers = await call(stack, "GET", "/api/offers", { token: accepted.body.data.access_token });
    expect(offers.body.data.items.map((o: { id: string }) => o.id)).toEqual([net.offer_id]);

    const again = await call(stack, "POST", "/api/auth/accept-invite", {
      body: { invite_token: token, password: PASSWORD },
    });
    expect(again.status).toBe(404);

    const list = await call(stack, "GET", "/api/invitations?status=accepted", { token: net.adminToken });
    expect(list.body.data.items.map((i: { email: string }) => i.email)).toContain(email);
    expect(JSON.stringify(list.body)).not.toContain(token);
  });

  it("requires the account id that matches the role", async () => {
    const net = await buildNetwork(stack);
    const res = await call(stack, "POST", "/api/invitations", {
      token: net.adminToken,
      body: { email: uniqueEmail("x"), role: "publisher", advertiser_id: net.advertiser_id },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_PARAMS");
  });
});
