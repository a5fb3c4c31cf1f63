// Tenant isolation: two networks built through the API; every management endpoint of the app's
// real route table is tried with the other network's ids and tokens (and a publisher against
// advertiser resources). Each attempt is a 404 or 403 indistinguishable from a made-up id, lists
// never show the other network, and the victim's rows are unchanged afterwards. A route this file
// does not know how to aim at the victim fails the first test, so a new route cannot be left out.

import { createApiKey } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSigned } from "../../../../tests/ingest-support";
import { buildNetwork, call, type Network, uniqueEmail } from "../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../tests/support";
import { trackerSetup } from "../../../../tests/tracker-helpers";
import { app } from "../app";

let stack: SharedTestStack;
let a: Network & {
  tracking_code: string;
  key_id: string;
  invitation_id: string;
  user_ids: string[];
  tracker_customer_id: string;
  tracker_key_id: string;
  tracker_product_id: string;
  webhook_id: string;
  postback_url_id: string;
  delivery_id: string;
  conversion_id: string;
  application_id: string;
};
let b: Network;

beforeAll(async () => {
  stack = sharedStack();
  const [na, nb] = await Promise.all([buildNetwork(stack, "Victim"), buildNetwork(stack, "Attacker")]);
  b = nb;
  const joined = await call(stack, "POST", `/api/offers/${na.offer_id}/join`, { token: na.publisherToken });
  const key = await call(stack, "POST", "/api/api-keys", { token: na.advertiserToken, body: {} });
  const tracker = await trackerSetup(stack, {}, na);
  const webhook = await call(stack, "POST", "/api/webhooks", {
    token: na.advertiserToken,
    body: { url: "https://hooks.example.com/victim", events: ["test"] },
  });
  const postbackUrl = await call(stack, "POST", "/api/postback-urls", {
    token: na.publisherToken,
    body: { url: "https://tracker.example.com/pb?tx={transaction_id}" },
  });
  const invitation = await call(stack, "POST", "/api/invitations", {
    token: na.adminToken,
    body: { email: uniqueEmail("pending"), role: "publisher", publisher_id: na.publisher_id },
  });
  // A conversion to approve, and a publisher's application to a private offer.
  const ingestKey = await createApiKey(stack.db, {
    tenant_id: na.tenant_id,
    advertiser_id: na.advertiser_id,
  });
  const conversion = await postSigned(
    stack,
    "/api/postback",
    { api_key: ingestKey.key, advertiser_id: na.advertiser_id },
    { offer_id: na.offer_id, transaction_id: "victim-order", amount: 10, currency: "USD", status: "pending" },
  );
  const privateOffer = await call(stack, "POST", "/api/offers", {
    token: na.advertiserToken,
    body: {
      name: "Victim private",
      destination_url: "https://example.com/vip",
      visibility: "private",
      accepts_applications: true,
    },
  });
  const application = await call(stack, "POST", `/api/offers/${privateOffer.body.data.id}/apply`, {
    token: na.publisherToken,
    body: {},
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
    tracker_customer_id: tracker.customer_id,
    tracker_key_id: tracker.key_id,
    tracker_product_id: tracker.product_id,
    invitation_id: invitation.body.data.id,
    user_ids: users.map((u) => u.id),
    webhook_id: webhook.body.data.id,
    postback_url_id: postbackUrl.body.data.id,
    // Deliveries are looked up within their endpoint: any well-formed id reaches that lookup.
    delivery_id: "msg_0123456789abcdef0123456789abcdef",
    conversion_id: ((await conversion.json()) as { data: { conversion_id: string } }).data.conversion_id,
    application_id: application.body.data.id,
  };
});
afterAll(() => stack.close());

interface Attempt {
  method: string;
  path: string;
  body?: unknown;
}

type Victim = typeof a;

/** Which of the victim's ids fills a path parameter, by the path up to and including it. */
const ID_OF: Record<string, keyof Victim> = {
  "/api/advertisers/:id": "advertiser_id",
  "/api/publishers/:id": "publisher_id",
  "/api/offers/:id": "offer_id",
  "/api/invitations/:id": "invitation_id",
  "/api/api-keys/:id": "key_id",
  "/api/tracker/access-keys/:id": "tracker_key_id",
  "/api/tracker/products/:id": "tracker_product_id",
  "/api/webhooks/:id": "webhook_id",
  "/api/webhooks/:id/deliveries/:delivery": "delivery_id",
  "/api/postback-urls/:id": "postback_url_id",
  "/api/postback-urls/:id/deliveries/:delivery": "delivery_id",
  "/api/conversions/:id": "conversion_id",
  "/api/applications/:id": "application_id",
};

/** A valid body for the routes that need one, so the attempt reaches the lookup. */
const BODY_OF: Record<string, unknown> = {
  "PATCH /api/advertisers/:id": { name: "pwned" },
  "PATCH /api/publishers/:id": { name: "pwned" },
  "PATCH /api/offers/:id": { status: "paused" },
  "POST /api/api-keys/:id/rotate": {},
  "PATCH /api/tracker/products/:id": { name: "pwned" },
  "POST /api/tracker/products/:id/test-event": { influencer_id: "someone" },
  "PATCH /api/webhooks/:id": { enabled: false },
  "POST /api/webhooks/:id/rotate": {},
  "POST /api/webhooks/:id/recover": { since: "2020-01-01T00:00:00Z" },
  "PATCH /api/postback-urls/:id": { enabled: false },
  "POST /api/postback-urls/:id/rotate": {},
  "POST /api/postback-urls/:id/recover": { since: "2020-01-01T00:00:00Z" },
  "POST /api/conversions/:id/status": { status: "approved" },
  "POST /api/offers/:id/apply": {},
  "POST /api/applications/:id/status": { status: "approved" },
};

/**
 * Routes without an id in their path: how each one is covered here (`body`: an attempt names the
 * victim's ids in its body or query; `list`: the list test), or why no foreign id can reach it
 * (`own`: it answers about or creates in the caller's network only; `public`: no bearer token;
 * `api_key`: ingestion, scoped by the advertiser's API key and tested with the ingestion routes).
 */
const WITHOUT_ID: Record<string, "body" | "list" | "own" | "public" | "api_key"> = {
  "POST /api/auth/register": "public",
  "POST /api/auth/login": "public",
  "POST /api/auth/refresh": "public",
  "POST /api/auth/logout": "public",
  "POST /api/auth/accept-invite": "public",
  "GET /api/auth/me": "own",
  "POST /api/advertisers": "own",
  "GET /api/advertisers": "list",
  "POST /api/publishers": "own",
  "GET /api/publishers": "list",
  "GET /api/users": "list",
  "POST /api/invitations": "body",
  "GET /api/invitations": "list",
  "POST /api/offers": "body",
  "GET /api/offers": "list",
  "GET /api/links": "list",
  "POST /api/links/sign": "body",
  "POST /api/api-keys": "body",
  "GET /api/api-keys": "body",
  "GET /api/link-secrets": "body",
  "POST /api/link-secrets/rotate": "body",
  "POST /api/sdk/click": "api_key",
  "POST /api/sdk/conversion": "api_key",
  "POST /api/sdk/batch": "api_key",
  "POST /api/postback": "api_key",
  "POST /api/conversions/status": "api_key",
  "POST /api/webhooks": "body",
  "GET /api/webhooks": "list",
  "POST /api/postback-urls": "body",
  "GET /api/postback-urls": "list",
  "POST /api/tracker/customers": "own",
  "GET /api/tracker/customers": "list",
  "POST /api/tracker/access-keys": "body",
  "GET /api/tracker/access-keys": "list",
  "POST /api/tracker/products": "body",
  "GET /api/tracker/products": "list",
  // Filters by product or customer id only narrow the caller's own network's counters.
  "GET /api/tracker/stats": "own",
  // Analytics: filters (offer, publisher ids) only narrow the caller's own network's rollups.
  "GET /api/network": "own",
  "PATCH /api/network": "own",
  "GET /api/stats": "own",
  "GET /api/stats/live": "own",
  "GET /api/stats/fraud": "own",
  // The live stream: the caller's tenant channel, each event filtered by the caller's scope.
  "GET /api/stats/stream": "own",
  "GET /api/events": "list",
  "GET /api/fraud-events": "list",
  "GET /api/applications": "list",
  "GET /api/exports/clicks.csv": "own",
  "GET /api/exports/conversions.csv": "own",
};

const NOT_API = new Set(["/openapi.json", "/docs", "/healthz"]);
/**
 * Public influencer-tracker endpoints without a bearer token: the access key in `/t/{access_key}` is
 * the capability, and widgets are public by design (routes/t and routes/w test them).
 */
const PUBLIC_PREFIXES = ["/t/", "/w/"];

/** The app's routes (method and path), without middleware and the documentation endpoints. */
function routeTable(): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of app.routes) {
    if (r.method === "ALL" || NOT_API.has(r.path) || PUBLIC_PREFIXES.some((p) => r.path.startsWith(p)))
      continue;
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}

/** Every route that takes an id, aimed at `v`'s resources; throws on a route it cannot aim. */
function idAttempts(v: Victim): Attempt[] {
  const attempts: Attempt[] = [];
  for (const { method, path } of routeTable()) {
    if (!path.includes("/:")) continue;
    const filled = path.replace(/\/:\w+/g, (param, offset: number) => {
      const key = ID_OF[path.slice(0, offset + param.length)];
      if (!key) throw new Error(`${method} ${path}: no id of the victim for ${param} (add it to ID_OF)`);
      return `/${v[key]}`;
    });
    attempts.push({ method, path: filled, body: BODY_OF[`${method} ${path}`] });
  }
  return attempts;
}

/** Management endpoints that name the victim's ids in their body or query. */
function bodyAttempts(v: Victim): Attempt[] {
  return [
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
    { method: "GET", path: `/api/api-keys?advertiser_id=${v.advertiser_id}` },
    { method: "POST", path: "/api/api-keys", body: { advertiser_id: v.advertiser_id } },
    { method: "GET", path: `/api/link-secrets?advertiser_id=${v.advertiser_id}` },
    { method: "POST", path: "/api/link-secrets/rotate", body: { advertiser_id: v.advertiser_id } },
    {
      method: "POST",
      path: "/api/webhooks",
      body: { url: "https://e.com/h", events: ["test"], advertiser_id: v.advertiser_id },
    },
    {
      method: "POST",
      path: "/api/webhooks",
      body: { url: "https://e.com/h", events: ["test"], publisher_id: v.publisher_id },
    },
    {
      method: "POST",
      path: "/api/webhooks",
      // the attacker's own advertiser (admins name one): only the offer scope is foreign
      body: {
        url: "https://e.com/h",
        events: ["test"],
        offer_id: v.offer_id,
        advertiser_id: b.advertiser_id,
      },
    },
    {
      method: "POST",
      path: "/api/postback-urls",
      body: { url: "https://e.com/pb", publisher_id: v.publisher_id },
    },
    { method: "POST", path: "/api/tracker/access-keys", body: { customer_id: v.tracker_customer_id } },
    {
      method: "POST",
      path: "/api/tracker/products",
      body: { customer_id: v.tracker_customer_id, code: "pwned", name: "x" },
    },
  ];
}

/** Every list, plain and filtered by the victim's ids. */
function listsOf(v: Victim): string[] {
  return [
    "/api/advertisers",
    "/api/publishers",
    "/api/users",
    "/api/invitations",
    "/api/offers",
    `/api/offers?advertiser_id=${v.advertiser_id}`,
    "/api/links",
    `/api/links?offer_id=${v.offer_id}`,
    `/api/links?publisher_id=${v.publisher_id}`,
    "/api/api-keys",
    "/api/webhooks",
    "/api/postback-urls",
    "/api/tracker/customers",
    "/api/tracker/access-keys",
    `/api/tracker/access-keys?customer_id=${v.tracker_customer_id}`,
    "/api/tracker/products",
    `/api/tracker/products?customer_id=${v.tracker_customer_id}`,
    "/api/events",
    `/api/events?offer_id=${v.offer_id}`,
    `/api/events?type=conversions&publisher_id=${v.publisher_id}`,
    "/api/fraud-events",
    `/api/fraud-events?offer_id=${v.offer_id}`,
    "/api/applications",
    `/api/applications?offer_id=${v.offer_id}`,
  ];
}

/** Every management endpoint that can name another network's resource, aimed at `v`'s. */
function attemptsOn(v: Victim): Attempt[] {
  return [...idAttempts(v), ...bodyAttempts(v)];
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
    tracker_customer_id: swap(v.tracker_customer_id),
    tracker_key_id: swap(v.tracker_key_id),
    tracker_product_id: swap(v.tracker_product_id),
    invitation_id: swap(v.invitation_id),
    webhook_id: swap(v.webhook_id),
    postback_url_id: swap(v.postback_url_id),
    conversion_id: swap(v.conversion_id),
    application_id: swap(v.application_id),
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
    v.tracker_customer_id,
    v.tracker_key_id,
    v.tracker_product_id,
    v.invitation_id,
    v.webhook_id,
    v.postback_url_id,
    v.conversion_id,
    v.application_id,
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
    tracker: await db
      .selectFrom("tracker_products")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    trackerKeys: await db
      .selectFrom("tracker_access_keys")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    webhooks: await db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    webhookSecrets: await db
      .selectFrom("webhook_secrets")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    offers: await db
      .selectFrom("offers")
      .select(["id", "allowed_publisher_ids"])
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    conversions: await db
      .selectFrom("conversions")
      .select(["id", "status"])
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
    applications: await db
      .selectFrom("offer_applications")
      .selectAll()
      .where("tenant_id", "=", a.tenant_id)
      .orderBy("id")
      .execute(),
  };
}

describe("another network's ids and tokens", () => {
  it("knows how to aim every route of the app at the other network", () => {
    const named = new Set(bodyAttempts(a).map((t) => `${t.method} ${t.path.split("?")[0]}`));
    const listed = new Set(listsOf(a).map((path) => `GET ${path.split("?")[0]}`));
    const unknown: string[] = [];
    for (const { method, path } of routeTable()) {
      const route = `${method} ${path}`;
      if (path.includes("/:")) continue; // idAttempts() refuses a parameter it cannot fill
      const how = WITHOUT_ID[route];
      if (!how) unknown.push(route);
      else if (how === "body") expect(named, `${route} has no attempt naming a foreign id`).toContain(route);
      else if (how === "list") expect(listed, `${route} is not in the list test`).toContain(route);
    }
    expect(unknown, "routes this file does not cover: add them to ID_OF or WITHOUT_ID").toEqual([]);
    expect(idAttempts(a).length).toBeGreaterThanOrEqual(Object.keys(ID_OF).length);
  });

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
    const lists = listsOf(a);
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
