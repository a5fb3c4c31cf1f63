// Tracking links, API keys and link-signing secrets through the management API: the seed's join
// and sign responses, TTLs the edge enforces, key rotation with overlap, secret rotation that
// keeps live links working.

import { createHash } from "node:crypto";
import { computeLinkSignature, linkKey, parseLinkToken } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, pathOf } from "./management-helpers";
import { BROWSER_UA, clickIdOf, clickRow, nextIp, startTestStack, type TestStack } from "./support";

let stack: TestStack;
let redis: Redis;

beforeAll(async () => {
  stack = await startTestStack({ edgeVars: { LINK_CACHE_SECONDS: "0" } });
  redis = new Redis({ url: stack.redisRestUrl, token: stack.redisRestToken });
});
afterAll(async () => {
  await stack?.close();
});

function visit(path: string) {
  return stack.mf.dispatchFetch(new URL(path, stack.edgeUrl), {
    redirect: "manual",
    headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
  });
}

function tokenOf(signedLink: string) {
  const parsed = parseLinkToken(new URL(signedLink).pathname.replace(/^\/c\//, ""));
  if (parsed.kind !== "signed") throw new Error(`not a signed link: ${signedLink}`);
  return parsed;
}

describe("POST /api/offers/{id}/join", () => {
  it("answers with the seed's fields, and the signed link redirects and counts", async () => {
    const net = await buildNetwork(stack);
    const res = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken });
    expect(res.status).toBe(201);
    expect(res.body.success).toBe(true);
    const d = res.body.data;
    expect(d).toMatchObject({
      user_offer_id: expect.stringMatching(/^uo_/),
      tracking_code: expect.stringMatching(/^[A-Za-z0-9]{12}$/),
      destination_url: "https://example.com/landing?click_id={click_id}&country={country}",
      ttl_seconds: 300,
    });
    // The local stack points the API's link bases at the local edge.
    expect(d.tracking_url).toBe(`${stack.edgeUrl}/c/${d.tracking_code}`);
    expect(d.short_link).toMatch(new RegExp(`^${stack.edgeUrl}/s/[A-Za-z0-9]{7}$`));
    expect(d.signed_link.startsWith(`${stack.edgeUrl}/c/${d.tracking_code}.`)).toBe(true);
    const followed = await fetch(d.signed_link, { redirect: "manual" });
    expect(followed.status).toBe(302);

    const row = await stack.db
      .selectFrom("tracking_links")
      .selectAll()
      .where("id", "=", d.user_offer_id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      tenant_id: net.tenant_id,
      offer_id: net.offer_id,
      publisher_id: net.publisher_id,
      tracking_code: d.tracking_code,
    });
    expect(await redis.get(linkKey(d.tracking_code))).toMatchObject({
      publisher_id: net.publisher_id,
      status: "active",
    });

    const click = await visit(pathOf(d.signed_link));
    expect(click.status).toBe(302);
    const clickRowData = await clickRow(stack.db, clickIdOf(click.headers.get("location")));
    expect(clickRowData).toMatchObject({
      verdict: "valid",
      tracking_code: d.tracking_code,
      publisher_id: net.publisher_id,
    });

    // Joining again returns the same link with a fresh signature.
    const again = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, {
      token: net.publisherToken,
    });
    expect(again.status).toBe(200);
    expect(again.body.data.user_offer_id).toBe(d.user_offer_id);
    expect(again.body.data.tracking_code).toBe(d.tracking_code);
    expect(again.body.data.signed_link).not.toBe(d.signed_link);

    const links = await call(stack, "GET", "/api/links", { token: net.publisherToken });
    expect(links.body.data.items).toEqual([
      expect.objectContaining({
        user_offer_id: d.user_offer_id,
        tracking_code: d.tracking_code,
        tracking_url: d.tracking_url,
      }),
    ]);
  });
});

describe("POST /api/links/sign", () => {
  it("signs a link whose expiry the edge enforces: min(ttl_minutes, offer TTL)", async () => {
    const net = await buildNetwork(stack);
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;

    const short = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.tracking_code, ttl_minutes: 2 },
    });
    expect(short.status).toBe(200);
    expect(short.body.data.ttl_seconds).toBe(120);
    const t = tokenOf(short.body.data.signed_link);
    // The edge checks now - timestamp < offer TTL (300 s): the link is stamped 180 s early, so
    // its edge expiry is the requested 120 s, and expires_at says exactly that.
    expect(Date.parse(short.body.data.expires_at)).toBe(t.timestamp + 300_000);
    expect(Date.parse(short.body.data.expires_at) - Date.now()).toBeGreaterThan(100_000);
    expect(Date.parse(short.body.data.expires_at) - Date.now()).toBeLessThanOrEqual(120_000);
    const ok = await visit(pathOf(short.body.data.signed_link));
    expect((await clickRow(stack.db, clickIdOf(ok.headers.get("location")))).verdict).toBe("valid");

    // Asking for more than the offer allows gets the offer's TTL, stated honestly.
    const long = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.tracking_code, ttl_minutes: 60 },
    });
    expect(long.body.data.ttl_seconds).toBe(300);

    // Raising the offer's TTL lets the publisher ask for longer links.
    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { link_ttl_seconds: 3600 },
    });
    const longer = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.tracking_code, ttl_minutes: 60 },
    });
    expect(longer.body.data.ttl_seconds).toBe(3600);
  });

  it("refuses ttl_minutes outside 1..1440 and codes that are not the caller's", async () => {
    const net = await buildNetwork(stack);
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;
    for (const ttl of [0, 1441, 1.5, "10"]) {
      const res = await call(stack, "POST", "/api/links/sign", {
        token: net.publisherToken,
        body: { tracking_code: joined.tracking_code, ttl_minutes: ttl },
      });
      expect(res.status, String(ttl)).toBe(400);
      expect(res.body.code).toBe("INVALID_PARAMS");
      expect(res.body.error).toContain("ttl_minutes");
    }
    // A second publisher of the same network cannot sign the first one's code.
    const pub2 = (
      await call(stack, "POST", "/api/publishers", { token: net.adminToken, body: { name: "P2" } })
    ).body.data;
    const inv = (
      await call(stack, "POST", "/api/invitations", {
        token: net.adminToken,
        body: { email: `p2-${pub2.id}@example.test`, role: "publisher", publisher_id: pub2.id },
      })
    ).body.data;
    const p2 = (
      await call(stack, "POST", "/api/auth/accept-invite", {
        body: { invite_token: inv.invite_token, password: "pass-word-2" },
      })
    ).body.data.access_token;
    const stolen = await call(stack, "POST", "/api/links/sign", {
      token: p2,
      body: { tracking_code: joined.tracking_code, ttl_minutes: 5 },
    });
    expect(stolen.status).toBe(404);
    expect(stolen.body).toEqual({ success: false, error: "Tracking code not found", code: "NOT_FOUND" });
    const unknown = await call(stack, "POST", "/api/links/sign", {
      token: p2,
      body: { tracking_code: "nosuchcode123", ttl_minutes: 5 },
    });
    expect(unknown.body).toEqual(stolen.body);
  });
});

describe("link-signing secrets", () => {
  it("rotation keeps links signed before it valid and retires the old secret for the longest TTL", async () => {
    const net = await buildNetwork(stack);
    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { link_ttl_seconds: 900 },
    });
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;
    const before = await stack.db
      .selectFrom("link_secrets")
      .selectAll()
      .where("advertiser_id", "=", net.advertiser_id)
      .execute();
    expect(before).toHaveLength(1);

    const rotated = await call(stack, "POST", "/api/link-secrets/rotate", {
      token: net.advertiserToken,
      body: {},
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body.data.secret).toMatch(/^[A-Za-z0-9]{40}$/);
    const validUntil = Date.parse(rotated.body.data.previous_valid_until);
    expect(validUntil - Date.now()).toBeGreaterThan(900_000);

    const old = await stack.db
      .selectFrom("link_secrets")
      .selectAll()
      .where("id", "=", before[0]!.id)
      .executeTakeFirstOrThrow();
    expect(old.expires_at?.getTime()).toBe(validUntil);
    const record = (await redis.get(linkKey(joined.tracking_code))) as { secrets: string[] };
    expect(record.secrets).toEqual([rotated.body.data.secret, before[0]!.secret]);

    // The link handed out before the rotation still counts.
    const res = await visit(pathOf(joined.signed_link));
    expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe("valid");

    const list = await call(stack, "GET", "/api/link-secrets", { token: net.advertiserToken });
    expect(list.body.data.items.map((s: { status: string }) => s.status)).toEqual(["current", "retiring"]);
    expect(JSON.stringify(list.body)).not.toContain(rotated.body.data.secret);
    expect(JSON.stringify(list.body)).not.toContain(before[0]!.secret);
  });

  it("signs with the new secret once edges have had time to learn it", async () => {
    const net = await buildNetwork(stack);
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;
    const oldSecret = (
      await stack.db
        .selectFrom("link_secrets")
        .select("secret")
        .where("advertiser_id", "=", net.advertiser_id)
        .executeTakeFirstOrThrow()
    ).secret;
    const rotated = (
      await call(stack, "POST", "/api/link-secrets/rotate", { token: net.advertiserToken, body: {} })
    ).body.data;
    const sign = async () => {
      const d = (
        await call(stack, "POST", "/api/links/sign", {
          token: net.publisherToken,
          body: { tracking_code: joined.tracking_code },
        })
      ).body.data;
      return tokenOf(d.signed_link);
    };
    const during = await sign();
    expect(during.signature).toBe(
      await computeLinkSignature(oldSecret, during.code, during.timestamp, during.nonce),
    );
    // Age the new secret past the propagation window instead of waiting for it.
    await stack.db
      .updateTable("link_secrets")
      .set({ created_at: new Date(Date.now() - 60_000) })
      .where("id", "=", rotated.id)
      .execute();
    const after = await sign();
    expect(after.signature).toBe(
      await computeLinkSignature(rotated.secret, after.code, after.timestamp, after.nonce),
    );
  });
});

describe("API keys", () => {
  it("creates (shown once), lists by prefix, rotates with overlap and revokes", async () => {
    const net = await buildNetwork(stack);
    const created = await call(stack, "POST", "/api/api-keys", { token: net.advertiserToken, body: {} });
    expect(created.status).toBe(201);
    const key = created.body.data.key as string;
    expect(key).toMatch(/^ak_[A-Za-z0-9]{40}$/);
    expect(created.body.data.prefix).toBe(key.slice(0, 10));
    const row = await stack.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", created.body.data.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createHash("sha256").update(key).digest("hex"));
    expect(row.advertiser_id).toBe(net.advertiser_id);
    // The v2 request-signing secret of the ingestion API comes with the key, also shown once.
    expect(created.body.data.signing_secret).toMatch(/^ss_[A-Za-z0-9]{40}$/);
    expect(row.signing_secret).toBe(created.body.data.signing_secret);

    const listed = await call(stack, "GET", `/api/api-keys?prefix=${key.slice(0, 10)}`, {
      token: net.advertiserToken,
    });
    expect(listed.body.data.items).toEqual([
      expect.objectContaining({
        id: created.body.data.id,
        prefix: key.slice(0, 10),
        status: "active",
        expires_at: null,
      }),
    ]);
    expect(listed.text).not.toContain(key);
    expect(listed.text).not.toContain(row.key_hash);
    expect(listed.text).not.toContain(created.body.data.signing_secret);

    const rotated = await call(stack, "POST", `/api/api-keys/${created.body.data.id}/rotate`, {
      token: net.advertiserToken,
      body: { overlap_hours: 2 },
    });
    expect(rotated.status).toBe(201);
    const newKey = rotated.body.data.api_key.key as string;
    expect(newKey).toMatch(/^ak_/);
    expect(newKey).not.toBe(key);
    const overlapEnd = Date.parse(rotated.body.data.rotated.expires_at);
    expect(overlapEnd - Date.now()).toBeGreaterThan(7_000_000);
    expect(overlapEnd - Date.now()).toBeLessThanOrEqual(7_200_000);
    expect(rotated.body.data.rotated.status).toBe("active");

    const defaultRotation = await call(
      stack,
      "POST",
      `/api/api-keys/${rotated.body.data.api_key.id}/rotate`,
      {
        token: net.advertiserToken,
      },
    );
    expect(Date.parse(defaultRotation.body.data.rotated.expires_at) - Date.now()).toBeGreaterThan(
      23 * 3_600_000,
    );

    const revoked = await call(stack, "DELETE", `/api/api-keys/${created.body.data.id}`, {
      token: net.advertiserToken,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.status).toBe("revoked");
    const again = await call(stack, "POST", `/api/api-keys/${created.body.data.id}/rotate`, {
      token: net.advertiserToken,
    });
    expect(again.status).toBe(404);
    const active = await call(stack, "GET", "/api/api-keys?status=active", { token: net.advertiserToken });
    expect(active.body.data.items.map((k: { id: string }) => k.id)).not.toContain(created.body.data.id);
    expect(
      (
        await call(stack, "POST", `/api/api-keys/${created.body.data.id}/rotate`, {
          token: net.advertiserToken,
          body: { overlap_hours: 500 },
        })
      ).status,
    ).toBe(400);
  });
});
