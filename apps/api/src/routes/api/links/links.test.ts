// POST /api/links/sign: links whose expiry the edge enforces (min of ttl_minutes and the offer's
// TTL), and only for the caller's own tracking codes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, signedTokenOf, visitLink } from "../../../../../../tests/management-helpers";
import { clickIdOf, clickRow, type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  // No isolate cache at the edge, so a click sees the Redis record the API just wrote.
  stack = sharedStack("noLinkCache");
});
afterAll(() => stack.close());

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
    const t = signedTokenOf(short.body.data.signed_link);
    // The edge checks now - timestamp < offer TTL (300 s): the link is stamped 180 s early, so
    // its edge expiry is the requested 120 s, and expires_at says exactly that.
    expect(Date.parse(short.body.data.expires_at)).toBe(t.timestamp + 300_000);
    expect(Date.parse(short.body.data.expires_at) - Date.now()).toBeGreaterThan(100_000);
    expect(Date.parse(short.body.data.expires_at) - Date.now()).toBeLessThanOrEqual(120_000);
    const ok = await visitLink(stack, short.body.data.signed_link);
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
