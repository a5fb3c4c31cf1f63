// Tenant isolation: two networks built through the API; every management endpoint is tried with
// the other network's ids and tokens (and a publisher against advertiser resources). Each attempt
// is a 404 or 403 indistinguishable from a made-up id, lists never show the other network, and the
// victim's rows are unchanged afterwards.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, type Network, uniqueEmail } from "./management-helpers";
import { startTestStack, type TestStack } from "./support";

let stack: TestStack;
let a: Network & { tracking_code: string; key_id: string; invitation_id: string; user_ids: string[] };
let b: Network;

beforeAll(async () => {
  stack = await startTestStack();
  const [na, nb] = await Promise.all([buildNetwork(stack, "Victim"), buildNetwork(stack, "Attacker")]);
  b = nb;
  const joined = await call(stack, "POST", `/api/offers/${na.offer_id}/join`, { token: na.publisherToken });
  const key = await call(stack, "POST", "/api/api-keys", { token: na.advertiserToken, body: {} });
  const invitation = await call(stack, "POST", "/api/invitations", {
    token: na.adminToken,
    body: { email: uniqueEmail("pending"), role: "publisher", publisher_id: na.publisher_id },
  });
  const users = await stack.db
    .selectFrom("users")
    .select("id")
    .where("tenant_id", "=", na.tenant_id)
    .execute();
  a = {
    ...na,
    tracking_code: joined.body.data.tracking_code,
    key_id: key.body.data.id,
    invitation_id: invitation.body.data.id,
    user_ids: users.map((u) => u.id),
  };
});
afterAll(async () => {
  await stack?.close();
});

interface Attempt {
  method: string;
  path: string;
  body?: unknown;
}

/** Every management endpoint that takes an id, aimed at network A's resources. */
function attemptsOn(v: typeof a): Attempt[] {
  return [
    { method: "GET", path: `/api/advertisers/${v.advertiser_id}` },
    { method: "PATCH", path: `/api/advertisers/${v.advertiser_id}`, body: { name: "pwned" } },
    { method: "DELETE", path: `/api/advertisers/${v.advertiser_id}` },
    { method: "GET", path: `/api/publishers/${v.publisher_id}` },
    { method: "PATCH", path: `/api/publishers/${v.publisher_id}`, body: { name: "pwned" } },
    { method: "DELETE", path: `/api/publishers/${v.publisher_id}` },
    { method: "GET", path: `/api/offers/${v.offer_id}` },
    { method: "PATCH", path: `/api/offers/${v.offer_id}`, body: { status: "paused" } },
    { method: "DELETE", path: `/api/offers/${v.offer_id}` },
    { method: "POST", path: `/api/offers/${v.offer_id}/join` },
    {
      method: "POST",
      path: "/api/offers",
      body: { name: "x", destination_url: "https://e.com/", advertiser_id: v.advertiser_id },
    },
    {
      method: "POST",
      path: "/api/offers",
      body: {
        name: "x",
        destination_url: "https://e.com/",
        visibility: "private",
        allowed_publisher_ids: [v.publisher_id],
        // the attacker's own advertiser (an admin must name one): only the publisher id is foreign
        advertiser_id: b.advertiser_id,
      },
    },
    { method: "PATCH", path: `/api/offers/${b.offer_id}`, body: { allowed_publisher_ids: [v.publisher_id] } },
    { method: "POST", path: "/api/links/sign", body: { tracking_code: v.tracking_code, ttl_minutes: 5 } },
    {
      method: "POST",
      path: "/api/invitations",
      body: { email: uniqueEmail("x"), role: "advertiser", advertiser_id: v.advertiser_id },
    },
    {
      method: "POST",
      path: "/api/invitations",
      body: { email: uniqueEmail("x"), role: "publisher", publisher_id: v.publisher_id },
    },
    { method: "DELETE", path: `/api/invitations/${v.invitation_id}` },
    { method: "GET", path: `/api/api-keys?advertiser_id=${v.advertiser_id}` },
    { method: "POST", path: "/api/api-keys", body: { advertiser_id: v.advertiser_id } },
    { method: "POST", path: `/api/api-keys/${v.key_id}/rotate`, body: {} },
    { method: "DELETE", path: `/api/api-keys/${v.key_id}` },
    { method: "GET", path: `/api/link-secrets?advertiser_id=${v.advertiser_id}` },
    { method: "POST", path: "/api/link-secrets/rotate", body: { advertiser_id: v.advertiser_id } },
  ];
}

/** The same attempts with made-up ids of the same shape: the answers must be identical. */
function fake(v: typeof a): typeof a {
  const swap = (id: string) => `${id.slice(0, id.indexOf("_") + 1)}Zz${id.slice(id.indexOf("_") + 3)}`;
  return {
    ...v,
    advertiser_id: swap(v.advertiser_id),
    publisher_id: swap(v.publisher_id),
    offer_id: swap(v.offer_id),
    tracking_code: `Zz${v.tracking_code.slice(2)}`,
    key_id: swap(v.key_id),
    invitation_id: swap(v.invitation_id),
  };
}

function secretsOf(v: typeof a): string[] {
  return [
    v.tenant_id,
    v.advertiser_id,
    v.publisher_id,
    v.offer_id,
    v.tracking_code,
    v.key_id,
    v.invitation_id,
    ...v.user_ids,
  ];
}

async function snapshot() {
  const db = stack.db;
  return {
    advertiser: await db
      .selectFrom("advertisers")
      .selectAll()
      .where("id", "=", a.advertiser_id)
      .executeTakeFirst(),
    publisher: await db
      .selectFrom("publishers")
      .selectAll()
      .where("id", "=", a.publisher_id)
      .executeTakeFirst(),
    offer: await db.selectFrom("offers").selectAll().where("id", "=", a.offer_id).executeTakeFirst(),
    keys: await db
      .selectFrom("api_keys")
      .selectAll()
      .where("advertiser_id", "=", a.advertiser_id)
      .orderBy("id")
      .execute(),
    secrets: await db
      .selectFrom("link_secrets")
      .selectAll()
      .where("advertiser_id", "=", a.advertiser_id)
      .orderBy("id")
      .execute(),
    links: await db
      .selectFrom("tracking_links")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    invitations: await db
      .selectFrom("invitations")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    users: await db
      .selectFrom("users")
      .select("id")
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    offers: await db
      .selectFrom("offers")
      .select("id")
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
  };
}

describe("another network's ids and tokens", () => {
  it("every endpoint answers 404 or 403, exactly as for an id that does not exist, and changes nothing", async () => {
    const before = await snapshot();
    const real = attemptsOn(a);
    const made = attemptsOn(fake(a));
    const tokens = { admin: b.adminToken, advertiser: b.advertiserToken, publisher: b.publisherToken };
    let tried = 0;
    for (const [role, token] of Object.entries(tokens)) {
      for (let i = 0; i < real.length; i++) {
        const attempt = real[i]!;
        const control = made[i]!;
        const res = await call(stack, attempt.method, attempt.path, { token, body: attempt.body });
        const label = `${role} ${attempt.method} ${attempt.path} ${JSON.stringify(attempt.body ?? "")}`;
        expect([403, 404], `${label} → ${res.status} ${res.text}`).toContain(res.status);
        expect(res.body.success, label).toBe(false);
        for (const secret of secretsOf(a)) expect(res.text, label).not.toContain(secret);
        const ctl = await call(stack, control.method, control.path, { token, body: control.body });
        expect({ status: res.status, body: res.body }, `${label} differs from a made-up id`).toEqual({
          status: ctl.status,
          body: ctl.body,
        });
        tried++;
      }
    }
    expect(tried).toBe(real.length * 3);
    expect(await snapshot()).toEqual(before);
  });

  it("a forged token naming the other network's advertiser still only reaches its own network", async () => {
    // Tokens are signed by the server; a client cannot re-scope one. Changing the claims breaks it.
    const [h, p, s] = b.advertiserToken.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, tenant_id: a.tenant_id, advertiser_id: a.advertiser_id })).toString("base64url")}.${s}`;
    const res = await call(stack, "GET", `/api/offers/${a.offer_id}`, { token: tampered });
    expect(res.status).toBe(401);
  });

  it("lists and list filters never show the other network", async () => {
    const lists = [
      "/api/advertisers",
      "/api/publishers",
      "/api/users",
      "/api/invitations",
      "/api/offers",
      `/api/offers?advertiser_id=${a.advertiser_id}`,
      "/api/links",
      `/api/links?offer_id=${a.offer_id}`,
      `/api/links?publisher_id=${a.publisher_id}`,
      "/api/api-keys",
    ];
    const tokens = { admin: b.adminToken, advertiser: b.advertiserToken, publisher: b.publisherToken };
    let listed = 0;
    for (const [role, token] of Object.entries(tokens)) {
      for (const path of lists) {
        const res = await call(stack, "GET", path, { token });
        const label = `${role} GET ${path} → ${res.status}`;
        expect([200, 403, 404], label).toContain(res.status);
        for (const secret of secretsOf(a)) expect(res.text, label).not.toContain(secret);
        if (res.status === 200) {
          listed++;
          expect(Object.keys(res.body.data).sort(), label).toEqual(["items", "next_cursor"]);
          if (path.includes(a.advertiser_id) || path.includes(a.offer_id) || path.includes(a.publisher_id)) {
            expect(res.body.data.items, label).toEqual([]);
          }
        }
      }
    }
    expect(listed).toBeGreaterThan(10);
    // The attacker's admin does see their own network: the filter is by network, not by accident.
    const own = await call(stack, "GET", "/api/offers", { token: b.adminToken });
    expect(own.body.data.items.map((o: { id: string }) => o.id)).toContain(b.offer_id);
    const me = await call(stack, "GET", "/api/auth/me", { token: b.adminToken });
    expect(me.body.data.network.id).toBe(b.tenant_id);
  });
});

describe("inside one network", () => {
  it("a publisher is refused (403) on every advertiser and admin resource", async () => {
    const attempts: Attempt[] = [
      { method: "GET", path: `/api/advertisers/${a.advertiser_id}` },
      { method: "GET", path: "/api/advertisers" },
      { method: "GET", path: "/api/publishers" },
      { method: "GET", path: "/api/users" },
      { method: "GET", path: "/api/invitations" },
      { method: "POST", path: "/api/invitations", body: { email: uniqueEmail("x"), role: "network_admin" } },
      { method: "POST", path: "/api/offers", body: { name: "x", destination_url: "https://e.com/" } },
      { method: "PATCH", path: `/api/offers/${a.offer_id}`, body: { status: "paused" } },
      { method: "DELETE", path: `/api/offers/${a.offer_id}` },
      { method: "GET", path: "/api/api-keys" },
      { method: "POST", path: "/api/api-keys", body: {} },
      { method: "POST", path: `/api/api-keys/${a.key_id}/rotate`, body: {} },
      { method: "DELETE", path: `/api/api-keys/${a.key_id}` },
      { method: "GET", path: "/api/link-secrets" },
      { method: "POST", path: "/api/link-secrets/rotate", body: {} },
    ];
    const before = await snapshot();
    for (const attempt of attempts) {
      const res = await call(stack, attempt.method, attempt.path, {
        token: a.publisherToken,
        body: attempt.body,
      });
      expect(res.status, `${attempt.method} ${attempt.path} ${res.text}`).toBe(403);
      expect(res.body).toEqual({ success: false, error: "Your role may not do this", code: "FORBIDDEN" });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("an advertiser cannot see or touch another advertiser's offers, keys or secrets", async () => {
    const adv2 = (
      await call(stack, "POST", "/api/advertisers", { token: a.adminToken, body: { name: "Rival" } })
    ).body.data;
    const inv = (
      await call(stack, "POST", "/api/invitations", {
        token: a.adminToken,
        body: { email: uniqueEmail("rival"), role: "advertiser", advertiser_id: adv2.id },
      })
    ).body.data;
    const rival = (
      await call(stack, "POST", "/api/auth/accept-invite", {
        body: { invite_token: inv.invite_token, password: "rival-pass-1" },
      })
    ).body.data.access_token;
    const before = await snapshot();
    for (const attempt of [
      { method: "GET", path: `/api/offers/${a.offer_id}` },
      { method: "PATCH", path: `/api/offers/${a.offer_id}`, body: { name: "mine now" } },
      { method: "DELETE", path: `/api/offers/${a.offer_id}` },
      { method: "GET", path: `/api/advertisers/${a.advertiser_id}` },
      {
        method: "POST",
        path: "/api/offers",
        body: { name: "x", destination_url: "https://e.com/", advertiser_id: a.advertiser_id },
      },
      { method: "POST", path: `/api/api-keys/${a.key_id}/rotate`, body: {} },
      { method: "DELETE", path: `/api/api-keys/${a.key_id}` },
      { method: "GET", path: `/api/api-keys?advertiser_id=${a.advertiser_id}` },
      { method: "GET", path: `/api/link-secrets?advertiser_id=${a.advertiser_id}` },
      { method: "POST", path: "/api/link-secrets/rotate", body: { advertiser_id: a.advertiser_id } },
    ] as Attempt[]) {
      const res = await call(stack, attempt.method, attempt.path, { token: rival, body: attempt.body });
      expect(res.status, `${attempt.method} ${attempt.path} ${res.text}`).toBe(404);
    }
    for (const path of ["/api/offers", "/api/api-keys", "/api/links"]) {
      const res = await call(stack, "GET", path, { token: rival });
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(a.offer_id);
      expect(res.text).not.toContain(a.key_id);
      expect(res.text).not.toContain(a.tracking_code);
    }
    expect(await snapshot()).toEqual(before);
  });
});
