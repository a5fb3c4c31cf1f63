// POST /api/offers/{id}/join: the seed's join response, the link row and its Redis record, and
// a signed link that redirects and counts; joining again returns the same link.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, linkRecordOf, visitLink } from "../../../../../../../tests/management-helpers";
import { clickIdOf, clickRow, type SharedTestStack, sharedStack } from "../../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  // No isolate cache at the edge, so the test sees the Redis record the API just wrote.
  stack = sharedStack("noLinkCache");
});
afterAll(() => stack.close());

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
    expect(await linkRecordOf(stack, d.tracking_code)).toMatchObject({
      publisher_id: net.publisher_id,
      status: "active",
    });

    const click = await visitLink(stack, d.signed_link);
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
