// /api/offers and /api/offers/{id}: validation, pagination and filters, publisher visibility,
// and the edge following every change at once (a paused offer's next click is "paused").

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, linkRecordOf, visitLink } from "../../../../../../tests/management-helpers";
import { clickIdOf, clickRow, type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  // No isolate cache at the edge, so the test sees the Redis record the API just wrote.
  stack = sharedStack("noLinkCache");
});
afterAll(() => stack.close());

const fullOffer = {
  name: "Summer Sale",
  destination_url: "https://shop.example/landing?cid={click_id}&c={country}&s={sub1}",
  fallback_url: "https://shop.example/closed?cid={click_id}",
  status: "active",
  payout_type: "revshare",
  payout_amount: 12.75,
  currency: "eur",
  allowed_countries: ["us", "DE", "us"],
  blocked_countries: [],
  link_ttl_seconds: 600,
  postback_ip_allowlist: ["203.0.113.10", "198.51.100.0/24", "2001:db8::/32"],
  visibility: "public",
};

describe("creating and validating offers", () => {
  it("refuses text Postgres cannot store, bad cursors and revenue shares above 100% with 400", async () => {
    const net = await buildNetwork(stack);
    const nul = await call(stack, "POST", "/api/offers", {
      token: net.advertiserToken,
      body: { ...fullOffer, name: "Summer\u0000Sale" },
    });
    expect(nul.status).toBe(400);
    expect(nul.body).toMatchObject({ success: false, code: "INVALID_PARAMS" });
    const cursor = Buffer.from(JSON.stringify(["1", "off_x"])).toString("base64url");
    const list = await call(stack, "GET", `/api/offers?cursor=${cursor}`, { token: net.advertiserToken });
    expect(list.status).toBe(400);
    expect(list.body.code).toBe("INVALID_PARAMS");
    const greedy = await call(stack, "POST", "/api/offers", {
      token: net.advertiserToken,
      body: { ...fullOffer, payout_type: "revshare", payout_amount: 150 },
    });
    expect(greedy.status).toBe(400);
    expect(greedy.body.error).toContain("payout_amount");
    const created = await call(stack, "POST", "/api/offers", { token: net.advertiserToken, body: fullOffer });
    const raise = await call(stack, "PATCH", `/api/offers/${created.body.data.id}`, {
      token: net.advertiserToken,
      body: { payout_amount: 101 },
    });
    expect(raise.status).toBe(400);
    const offers = await stack.db
      .selectFrom("offers")
      .select("name")
      .where("advertiser_id", "=", net.advertiser_id)
      .execute();
    expect(offers.map((o) => o.name).sort()).toEqual(["Net Offer", "Summer Sale"]);
  });

  it("creates an offer with every field and normalises codes", async () => {
    const net = await buildNetwork(stack);
    const res = await call(stack, "POST", "/api/offers", { token: net.advertiserToken, body: fullOffer });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      advertiser_id: net.advertiser_id,
      name: "Summer Sale",
      destination_url: fullOffer.destination_url,
      fallback_url: fullOffer.fallback_url,
      status: "active",
      payout_type: "revshare",
      payout_amount: 12.75,
      currency: "EUR",
      allowed_countries: ["US", "DE"],
      blocked_countries: [],
      link_ttl_seconds: 600,
      postback_ip_allowlist: fullOffer.postback_ip_allowlist,
      visibility: "public",
      allowed_publisher_ids: [],
    });
    const row = await stack.db
      .selectFrom("offers")
      .selectAll()
      .where("id", "=", res.body.data.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      tenant_id: net.tenant_id,
      advertiser_id: net.advertiser_id,
      currency: "EUR",
      link_ttl_seconds: 600,
    });
  });

  it("refuses bad values and unknown fields (no mass assignment), naming the field, writing nothing", async () => {
    const net = await buildNetwork(stack);
    const base = { name: "X", destination_url: "https://e.com/" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, link_ttl_seconds: 59 }, "link_ttl_seconds"],
      [{ ...base, link_ttl_seconds: 86_401 }, "link_ttl_seconds"],
      [{ ...base, link_ttl_seconds: 90.5 }, "link_ttl_seconds"],
      [{ ...base, destination_url: "javascript:alert(1)" }, "destination_url"],
      [{ ...base, destination_url: "not a url" }, "destination_url"],
      [{ ...base, fallback_url: "ftp://e.com/x" }, "fallback_url"],
      [{ ...base, payout_amount: -1 }, "payout_amount"],
      [{ ...base, currency: "EURO" }, "currency"],
      [{ ...base, allowed_countries: ["USA"] }, "allowed_countries"],
      [{ ...base, postback_ip_allowlist: ["example.com"] }, "postback_ip_allowlist"],
      [{ ...base, status: "deleted" }, "status"],
      [{ ...base, tenant_id: "net_other" }, "tenant_id"],
      [{ ...base, id: "off_chosen" }, "id"],
      [{ destination_url: "https://e.com/" }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await call(stack, "POST", "/api/offers", { token: net.advertiserToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ success: false, code: "INVALID_PARAMS" });
      expect(res.body.error).toContain(field);
    }
    const offers = await stack.db
      .selectFrom("offers")
      .select("id")
      .where("advertiser_id", "=", net.advertiser_id)
      .execute();
    expect(offers).toHaveLength(1);
    const patch = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { advertiser_id: "adv_other" },
    });
    expect(patch.status).toBe(400);
    expect(patch.body.error).toContain("advertiser_id");
  });

  it("lets a network admin create an offer for one of its advertisers (advertiser_id required)", async () => {
    const net = await buildNetwork(stack);
    const missing = await call(stack, "POST", "/api/offers", {
      token: net.adminToken,
      body: { name: "A", destination_url: "https://e.com/" },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain("advertiser_id");
    const res = await call(stack, "POST", "/api/offers", {
      token: net.adminToken,
      body: { name: "A", destination_url: "https://e.com/", advertiser_id: net.advertiser_id },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.advertiser_id).toBe(net.advertiser_id);
  });
});

describe("listing offers", () => {
  it("pages with a cursor through every offer exactly once, newest first, and filters", async () => {
    const net = await buildNetwork(stack);
    const created = [net.offer_id];
    for (let i = 0; i < 6; i++) {
      const res = await call(stack, "POST", "/api/offers", {
        token: net.advertiserToken,
        body: { name: `Offer ${i}`, destination_url: "https://e.com/", status: i % 2 ? "paused" : "active" },
      });
      created.push(res.body.data.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(stack, "GET", `/api/offers?limit=3${cursor ? `&cursor=${cursor}` : ""}`, {
        token: net.advertiserToken,
      });
      expect(res.status).toBe(200);
      expect(res.body.data.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.items.map((o: { id: string }) => o.id));
      cursor = res.body.data.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());

    const paused = await call(stack, "GET", "/api/offers?status=paused", { token: net.advertiserToken });
    expect(paused.body.data.items).toHaveLength(3);
    expect(paused.body.data.items.every((o: { status: string }) => o.status === "paused")).toBe(true);
    const named = await call(stack, "GET", "/api/offers?q=Offer%203", { token: net.advertiserToken });
    expect(named.body.data.items.map((o: { name: string }) => o.name)).toEqual(["Offer 3"]);

    for (const bad of ["limit=0", "limit=101", "limit=abc", "cursor=%21%21", "sort=name"]) {
      const res = await call(stack, "GET", `/api/offers?${bad}`, { token: net.advertiserToken });
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe("INVALID_PARAMS");
    }
  });

  it("shows a publisher only active offers open to them, without other publishers' ids", async () => {
    const net = await buildNetwork(stack);
    const pub2 = await call(stack, "POST", "/api/publishers", {
      token: net.adminToken,
      body: { name: "Other pub" },
    });
    const mk = async (body: Record<string, unknown>) =>
      (
        await call(stack, "POST", "/api/offers", {
          token: net.advertiserToken,
          body: { destination_url: "https://e.com/", ...body },
        })
      ).body.data.id as string;
    const privateOther = await mk({
      name: "private other",
      visibility: "private",
      allowed_publisher_ids: [pub2.body.data.id],
    });
    const privateMine = await mk({
      name: "private mine",
      visibility: "private",
      allowed_publisher_ids: [net.publisher_id],
    });
    const paused = await mk({ name: "paused", status: "paused" });

    const list = await call(stack, "GET", "/api/offers", { token: net.publisherToken });
    const ids = list.body.data.items.map((o: { id: string }) => o.id);
    expect(ids.sort()).toEqual([net.offer_id, privateMine].sort());
    expect(ids).not.toContain(privateOther);
    expect(ids).not.toContain(paused);
    expect(JSON.stringify(list.body)).not.toContain(pub2.body.data.id);
    expect(list.body.data.items[0]).not.toHaveProperty("postback_ip_allowlist");
    expect(list.body.data.items[0]).toHaveProperty("joined", false);

    expect(
      (await call(stack, "GET", `/api/offers/${privateOther}`, { token: net.publisherToken })).status,
    ).toBe(404);
    expect(
      (await call(stack, "POST", `/api/offers/${privateOther}/join`, { token: net.publisherToken })).status,
    ).toBe(404);
    expect(
      (await call(stack, "POST", `/api/offers/${paused}/join`, { token: net.publisherToken })).status,
    ).toBe(404);
    expect(
      (await call(stack, "POST", `/api/offers/${privateMine}/join`, { token: net.publisherToken })).status,
    ).toBe(201);

    // Opening the private offer to this publisher makes it joinable.
    await call(stack, "PATCH", `/api/offers/${privateOther}`, {
      token: net.advertiserToken,
      body: { allowed_publisher_ids: [pub2.body.data.id, net.publisher_id] },
    });
    expect(
      (await call(stack, "POST", `/api/offers/${privateOther}/join`, { token: net.publisherToken })).status,
    ).toBe(201);
  });
});

describe("the edge follows offer changes at once", () => {
  it("a suspended publisher's links stop counting at once and they cannot sign new ones", async () => {
    const net = await buildNetwork(stack);
    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { fallback_url: "https://example.com/paused?click_id={click_id}" },
    });
    const joined = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, {
      token: net.publisherToken,
    });
    const code = joined.body.data.tracking_code;
    const unused = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: code, ttl_minutes: 5 },
    });
    expect(unused.status).toBe(200);
    const suspended = await call(stack, "PATCH", `/api/publishers/${net.publisher_id}`, {
      token: net.adminToken,
      body: { status: "suspended" },
    });
    expect(suspended.status).toBe(200);
    const refused = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: code, ttl_minutes: 5 },
    });
    expect(refused.status).toBe(403);
    const after = await visitLink(stack, unused.body.data.signed_link);
    expect(after.headers.get("location")).toMatch(/^https:\/\/example\.com\/paused\?/);
    expect((await clickRow(stack.db, clickIdOf(after.headers.get("location")))).verdict).toBe("paused");
    await call(stack, "PATCH", `/api/publishers/${net.publisher_id}`, {
      token: net.adminToken,
      body: { status: "active" },
    });
    const again = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: code, ttl_minutes: 5 },
    });
    const counted = await visitLink(stack, again.body.data.signed_link);
    expect((await clickRow(stack.db, clickIdOf(counted.headers.get("location")))).verdict).toBe("valid");
  });

  it("a paused offer's next click is recorded as paused; resuming counts again", async () => {
    const net = await buildNetwork(stack);
    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { fallback_url: "https://example.com/paused?click_id={click_id}" },
    });
    const joined = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, {
      token: net.publisherToken,
    });
    expect(joined.status).toBe(201);

    const before = await visitLink(stack, joined.body.data.signed_link);
    expect(before.status).toBe(302);
    expect((await clickRow(stack.db, clickIdOf(before.headers.get("location")))).verdict).toBe("valid");

    // A fresh link signed while the offer is active, clicked only after the pause.
    const unused = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.body.data.tracking_code, ttl_minutes: 5 },
    });
    expect(unused.status).toBe(200);

    const paused = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { status: "paused" },
    });
    expect(paused.status).toBe(200);
    expect(paused.body.data.status).toBe("paused");

    // No new links for a paused offer.
    const refused = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.body.data.tracking_code, ttl_minutes: 5 },
    });
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe("INVALID_OFFER");

    const after = await visitLink(stack, unused.body.data.signed_link);
    expect(after.status).toBe(302);
    const location = after.headers.get("location") ?? "";
    expect(location.startsWith("https://example.com/paused?")).toBe(true);
    const row = await clickRow(stack.db, clickIdOf(location));
    expect(row.verdict).toBe("paused");
    expect(row.offer_id).toBe(net.offer_id);

    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { status: "active" },
    });
    const again = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.body.data.tracking_code, ttl_minutes: 5 },
    });
    const resumed = await visitLink(stack, again.body.data.signed_link);
    expect((await clickRow(stack.db, clickIdOf(resumed.headers.get("location")))).verdict).toBe("valid");
  });

  it("rewrites the Redis link record on destination, geo and TTL changes, and on archive", async () => {
    const net = await buildNetwork(stack);
    const joined = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, {
      token: net.publisherToken,
    });
    const code = joined.body.data.tracking_code;
    expect(await linkRecordOf(stack, code)).toMatchObject({ status: "active", offer_id: net.offer_id });

    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: {
        destination_url: "https://new.example/?c={click_id}",
        blocked_countries: ["fr"],
        allowed_countries: [],
        link_ttl_seconds: 1200,
        max_link_ttl_seconds: 1200,
      },
    });
    // The record carries the TTL the edge accepts links for: the offer's ceiling (issue 13 #14).
    expect(await linkRecordOf(stack, code)).toMatchObject({
      destination_url: "https://new.example/?c={click_id}",
      blocked_countries: ["FR"],
      link_ttl_seconds: 1200,
    });
    const res = await visitLink(stack, joined.body.data.signed_link);
    expect(res.headers.get("location")?.startsWith("https://new.example/?c=clk_")).toBe(true);

    const archived = await call(stack, "DELETE", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
    });
    expect(archived.status).toBe(200);
    expect(archived.body.data.status).toBe("archived");
    expect(await linkRecordOf(stack, code)).toMatchObject({ status: "archived" });
  });
});
