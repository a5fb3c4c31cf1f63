// POST /api/links/sign: links whose expiry the edge enforces (ttl_minutes up to the offer's
// ceiling), and only for the caller's own tracking codes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildNetwork,
  call,
  linkRecordOf,
  signedTokenOf,
  visitLink,
} from "../../../../../../tests/management-helpers";
import { clickIdOf, clickRow, type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  // No isolate cache at the edge, so a click sees the Redis record the API just wrote.
  stack = sharedStack("noLinkCache");
});
afterAll(() => stack.close());

describe("POST /api/links/sign", () => {
  it("signs a link for any ttl_minutes up to the offer's ceiling, and the edge enforces exactly that", async () => {
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
    // The edge checks now - timestamp < the offer's ceiling (24 h when the advertiser set none):
    // the link is stamped (ceiling - 120 s) early, so its edge expiry is the requested 120 s.
    expect((await linkRecordOf(stack, joined.tracking_code))?.link_ttl_seconds).toBe(86_400);
    expect(Date.parse(short.body.data.expires_at)).toBe(t.timestamp + 86_400_000);
    expect(Date.parse(short.body.data.expires_at) - Date.now()).toBeGreaterThan(100_000);
    expect(Date.parse(short.body.data.expires_at) - Date.now()).toBeLessThanOrEqual(120_000);
    const ok = await visitLink(stack, short.body.data.signed_link);
    expect((await clickRow(stack.db, clickIdOf(ok.headers.get("location")))).verdict).toBe("valid");

    // The seed's example on a default offer (link_ttl_seconds 300): ttl_minutes 10 is 600 s (issue 13 #14).
    const ten = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.tracking_code, ttl_minutes: 10 },
    });
    expect(ten.body.data.ttl_seconds).toBe(600);
    const tenToken = signedTokenOf(ten.body.data.signed_link);
    // Valid at the edge for 600 s: still valid at 590 s, expired at 610 s (edge: now - ts < 86 400 s).
    const expiry = tenToken.timestamp + 86_400_000;
    expect(expiry - Date.now()).toBeGreaterThan(590_000);
    expect(expiry - Date.now()).toBeLessThanOrEqual(600_000);
    const tenVisit = await visitLink(stack, ten.body.data.signed_link);
    expect((await clickRow(stack.db, clickIdOf(tenVisit.headers.get("location")))).verdict).toBe("valid");

    // Without ttl_minutes: the offer's link_ttl_seconds.
    const dflt = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.tracking_code },
    });
    expect(dflt.body.data.ttl_seconds).toBe(300);

    // An advertiser's maximum caps what a publisher may ask for, and the edge's window follows it.
    await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { max_link_ttl_seconds: 900 },
    });
    const capped = await call(stack, "POST", "/api/links/sign", {
      token: net.publisherToken,
      body: { tracking_code: joined.tracking_code, ttl_minutes: 60 },
    });
    expect(capped.body.data.ttl_seconds).toBe(900);
    expect((await linkRecordOf(stack, joined.tracking_code))?.link_ttl_seconds).toBe(900);
    expect(Date.parse(capped.body.data.expires_at)).toBe(
      signedTokenOf(capped.body.data.signed_link).timestamp + 900_000,
    );
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
