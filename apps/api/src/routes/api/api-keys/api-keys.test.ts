// /api/api-keys, /api/api-keys/{id} and /api/api-keys/{id}/rotate: keys shown once, listed by
// prefix, rotated with overlap and revoked.

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

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
