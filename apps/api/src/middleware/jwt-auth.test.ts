// requireAuth(): which bearer tokens the management API accepts, and how a
// missing, forged or expired one and a wrong role are refused.

import { signJwt } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call } from "../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("bearer tokens", () => {
  it("refuses a missing, malformed, forged or expired token with 401", async () => {
    const net = await buildNetwork(stack);
    expect((await call(stack, "GET", "/api/offers")).status).toBe(401);
    expect((await call(stack, "GET", "/api/offers", { token: "garbage" })).body).toEqual({
      success: false,
      error: "Invalid access token",
      code: "UNAUTHORIZED",
    });
    const claims = { sub: "usr_x", role: "network_admin" as const, tenant_id: net.tenant_id };
    const forged = await signJwt(claims, "not-the-server-secret", { ttlSeconds: 600 });
    expect((await call(stack, "GET", "/api/offers", { token: forged })).status).toBe(401);
    const expired = await signJwt(claims, stack.jwtSecret, { ttlSeconds: 60, now: Date.now() - 120_000 });
    const res = await call(stack, "GET", "/api/offers", { token: expired });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ success: false, error: "Access token expired", code: "UNAUTHORIZED" });
    // The same claims, validly signed and fresh, are accepted: the refusals above are the token's.
    const fresh = await signJwt(claims, stack.jwtSecret, { ttlSeconds: 60 });
    expect((await call(stack, "GET", "/api/offers", { token: fresh })).status).toBe(200);
  });

  it("enforces roles with 403 FORBIDDEN", async () => {
    const net = await buildNetwork(stack);
    const res = await call(stack, "POST", "/api/advertisers", {
      token: net.publisherToken,
      body: { name: "X" },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ success: false, code: "FORBIDDEN" });
    expect((await call(stack, "GET", "/api/publishers", { token: net.advertiserToken })).status).toBe(403);
    // The role is checked before the body or the path: a caller learns nothing of an endpoint it may
    // not use, not even its schema.
    for (const [method, path, token] of [
      ["POST", "/api/api-keys", net.publisherToken],
      ["POST", "/api/link-secrets/rotate", net.publisherToken],
      ["GET", `/api/advertisers/${net.advertiser_id}`, net.publisherToken],
      ["GET", `/api/publishers/${net.publisher_id}`, net.advertiserToken],
      ["DELETE", `/api/offers/${net.offer_id}`, net.publisherToken],
    ] as const) {
      const res = await call(stack, method, path, { token, body: method === "GET" ? undefined : { x: 1 } });
      expect(res.body, `${method} ${path}`).toMatchObject({ code: "FORBIDDEN" });
    }
    expect(
      (await call(stack, "POST", "/api/offers", { token: net.publisherToken, body: {} })).body,
    ).toMatchObject({
      code: "FORBIDDEN",
    });
    expect(
      (
        await call(stack, "POST", "/api/links/sign", {
          token: net.advertiserToken,
          body: { tracking_code: "abc" },
        })
      ).status,
    ).toBe(403);
  });
});
