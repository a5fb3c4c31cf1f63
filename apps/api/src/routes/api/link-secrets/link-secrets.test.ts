// /api/link-secrets and /api/link-secrets/rotate: rotation keeps links signed before it valid,
// lists never show a secret, and new links use the new secret once edges can know it.

import { computeLinkSignature } from "@afftrack/core";
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
  // No isolate cache at the edge, so the test sees the Redis record the API just wrote.
  stack = sharedStack("noLinkCache");
});
afterAll(() => stack.close());

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
    const record = await linkRecordOf(stack, joined.tracking_code);
    expect(record?.secrets).toEqual([rotated.body.data.secret, before[0]!.secret]);

    // The link handed out before the rotation still counts.
    const res = await visitLink(stack, joined.signed_link);
    expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe("valid");

    const list = await call(stack, "GET", "/api/link-secrets", { token: net.advertiserToken });
    expect(list.body.data.items.map((s: { status: string }) => s.status)).toEqual(["current", "retiring"]);
    expect(JSON.stringify(list.body)).not.toContain(rotated.body.data.secret);
    expect(JSON.stringify(list.body)).not.toContain(before[0]!.secret);
  });

  it("retires a leaked secret at once when asked: links signed with it stop counting", async () => {
    const net = await buildNetwork(stack);
    const joined = (
      await call(stack, "POST", `/api/offers/${net.offer_id}/join`, { token: net.publisherToken })
    ).body.data;
    const rotated = await call(stack, "POST", "/api/link-secrets/rotate", {
      token: net.advertiserToken,
      body: { retire_previous: "now" },
    });
    expect(rotated.status).toBe(201);
    expect(Date.parse(rotated.body.data.previous_valid_until)).toBeLessThanOrEqual(Date.now());
    expect((await linkRecordOf(stack, joined.tracking_code))?.secrets).toEqual([rotated.body.data.secret]);
    const res = await visitLink(stack, joined.signed_link);
    expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe(
      "invalid_signature",
    );
    const bad = await call(stack, "POST", "/api/link-secrets/rotate", {
      token: net.advertiserToken,
      body: { retire_previous: "soon" },
    });
    expect(bad.status).toBe(400);
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
      return signedTokenOf(d.signed_link);
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
