// What the ingestion service refuses after the guards, with the seed's status and code, and that a
// refused request writes nothing: offers, geo, IP allowlists, duplicates under concurrency.

import { randomBase62 } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clickCount,
  conversionCount,
  conversionFields,
  expectRefused,
  ingestFixture,
  json,
  nonce,
  postRaw,
  postSigned,
  refusedWithin,
  seedSigned,
} from "../../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("offers, geo and IP allowlists", () => {
  it("refuses unknown, paused and other advertisers' offers with 404 INVALID_OFFER", async () => {
    const f = await ingestFixture(stack);
    const paused = await ingestFixture(stack, { status: "paused" });
    const other = await ingestFixture(stack);
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields({ offer_id: "off_missing" })),
      404,
      "INVALID_OFFER",
    );
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(other)),
      404,
      "INVALID_OFFER",
    );
    await expectRefused(
      await postSigned(stack, "/api/postback", paused, conversionFields(paused)),
      404,
      "INVALID_OFFER",
    );
    await expectRefused(
      await postSigned(stack, "/api/sdk/click", paused, {
        offer_id: paused.offer_id,
        tracking_code: paused.tracking_code,
      }),
      404,
      "INVALID_OFFER",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
    expect(await clickCount(stack, paused.advertiser_id)).toBe(0);
  });

  it("refuses SDK clicks and conversions from a blocked country with 403 GEO_BLOCKED", async () => {
    const f = await ingestFixture(stack, { blockedCountries: ["DE"] });
    await expectRefused(
      await postSigned(
        stack,
        "/api/sdk/click",
        f,
        { offer_id: f.offer_id, tracking_code: f.tracking_code },
        { country: "DE" },
      ),
      403,
      "GEO_BLOCKED",
    );
    await expectRefused(
      await postSigned(stack, "/api/sdk/conversion", f, conversionFields(f), { country: "DE" }),
      403,
      "GEO_BLOCKED",
    );
    expect(await clickCount(stack, f.advertiser_id)).toBe(0);
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
    const ok = await postSigned(
      stack,
      "/api/sdk/click",
      f,
      { offer_id: f.offer_id, tracking_code: f.tracking_code },
      { country: "FR" },
    );
    expect(ok.status).toBe(200);
    // A server-to-server postback is not geo-checked: the caller is the advertiser's server.
    expect((await postSigned(stack, "/api/postback", f, conversionFields(f), { country: "DE" })).status).toBe(
      200,
    );
  });

  it("refuses postbacks from outside the advertiser's CIDR allowlist with 403 IP_NOT_ALLOWED", async () => {
    const f = await ingestFixture(stack);
    await stack.db
      .updateTable("advertisers")
      .set({ postback_ip_allowlist: ["203.0.113.0/24", "2001:db8:abcd::/48"] })
      .where("id", "=", f.advertiser_id)
      .execute();
    for (const ip of ["198.51.100.1", "203.0.114.1", "2001:db8:abce::1"]) {
      await expectRefused(
        await postSigned(stack, "/api/postback", f, conversionFields(f), { ip }),
        403,
        "IP_NOT_ALLOWED",
      );
    }
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f)),
      403,
      "IP_NOT_ALLOWED",
    );
    expect(await conversionCount(stack, f.advertiser_id)).toBe(0);
    for (const ip of ["203.0.113.9", "2001:db8:abcd:1::5"]) {
      expect((await postSigned(stack, "/api/postback", f, conversionFields(f), { ip })).status).toBe(200);
    }
    expect(await conversionCount(stack, f.advertiser_id)).toBe(2);
  });

  it("does not spend the nonce of a postback refused for its IP: the same request from inside succeeds", async () => {
    const f = await ingestFixture(stack);
    await stack.db
      .updateTable("advertisers")
      .set({ postback_ip_allowlist: ["203.0.113.0/24"] })
      .where("id", "=", f.advertiser_id)
      .execute();
    const n = nonce();
    const timestamp = Date.now();
    const fields = conversionFields(f);
    await expectRefused(
      await postSigned(stack, "/api/postback", f, fields, { nonce: n, timestamp, ip: "198.51.100.1" }),
      403,
      "IP_NOT_ALLOWED",
    );
    const inside = await postSigned(stack, "/api/postback", f, fields, {
      nonce: n,
      timestamp,
      ip: "203.0.113.9",
    });
    expect(inside.status).toBe(200);
  });

  it("records SDK conversions of an allowlisted advertiser as pending, never approved", async () => {
    const f = await ingestFixture(stack);
    await stack.db
      .updateTable("advertisers")
      .set({ postback_ip_allowlist: ["203.0.113.0/24"] })
      .where("id", "=", f.advertiser_id)
      .execute();
    const res = await postSigned(
      stack,
      "/api/sdk/conversion",
      f,
      conversionFields(f, { status: "approved" }),
      {
        ip: "198.51.100.7",
      },
    );
    const body = (await res.json()) as { data: { status: string; conversion_id: string } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.status).toBe("pending");
    const row = await stack.db
      .selectFrom("conversions")
      .select("status")
      .where("id", "=", body.data.conversion_id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("pending");
  });

  it("applies the offer's own postback allowlist too", async () => {
    const f = await ingestFixture(stack);
    await stack.db
      .updateTable("offers")
      .set({ postback_ip_allowlist: ["192.0.2.0/28"] })
      .where("id", "=", f.offer_id)
      .execute();
    await expectRefused(
      await postSigned(stack, "/api/postback", f, conversionFields(f), { ip: "192.0.2.16" }),
      403,
      "IP_NOT_ALLOWED",
    );
    expect(
      (await postSigned(stack, "/api/postback", f, conversionFields(f), { ip: "192.0.2.15" })).status,
    ).toBe(200);
  });

  it("records SDK and batch conversions on an offer with its own allowlist as pending, never approved", async () => {
    const f = await ingestFixture(stack);
    await stack.db
      .updateTable("offers")
      .set({ postback_ip_allowlist: ["192.0.2.0/28"] })
      .where("id", "=", f.offer_id)
      .execute();
    const sdk = await json(
      await postSigned(stack, "/api/sdk/conversion", f, conversionFields(f, { status: "approved" }), {
        ip: "198.51.100.7",
      }),
    );
    expect(sdk).toMatchObject({ success: true, data: { status: "pending" } });
    const batch = await json(
      await postSigned(
        stack,
        "/api/sdk/batch",
        f,
        { events: [{ type: "conversion", ...conversionFields(f, { status: "approved" }) }] },
        { ip: "198.51.100.7" },
      ),
    );
    expect(batch.data.results[0]).toMatchObject({ success: true, data: { status: "pending" } });
    const rows = await stack.db
      .selectFrom("conversions")
      .select("status")
      .where("advertiser_id", "=", f.advertiser_id)
      .execute();
    expect(rows).toEqual([{ status: "pending" }, { status: "pending" }]);
  });
});

describe("duplicates", () => {
  it("gives exactly one 200 and 39 × 409 DUPLICATE_TRANSACTION for 40 concurrent duplicates", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 2 });
    const click = await json(
      await postSigned(stack, "/api/sdk/click", f, { offer_id: f.offer_id, tracking_code: f.tracking_code }),
    );
    const fields = conversionFields(f, { click_id: click.data.click_id, amount: 12.5 });
    const bodies = await Promise.all(Array.from({ length: 40 }, () => seedSigned(f, fields)));
    const responses = await Promise.all(
      bodies.map((b) => postRaw(stack, "/api/postback", JSON.stringify(b), { apiKeyHeader: f.api_key })),
    );
    const results = await Promise.all(
      responses.map(async (r) => ({ status: r.status, body: await json(r) })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(39);
    for (const r of refused) expect(r.body).toMatchObject({ success: false, code: "DUPLICATE_TRANSACTION" });
    expect(await conversionCount(stack, f.advertiser_id)).toBe(1);
    const stats = await stack.db
      .selectFrom("stats_daily")
      .selectAll()
      .where("offer_id", "=", f.offer_id)
      .executeTakeFirstOrThrow();
    expect(stats).toMatchObject({ conversions: 1, revenue: "12.5000", payout: "2.0000" });
    const history = await stack.db
      .selectFrom("conversion_status_history as h")
      .innerJoin("conversions as c", "c.id", "h.conversion_id")
      .select("h.id")
      .where("c.advertiser_id", "=", f.advertiser_id)
      .execute();
    expect(history).toHaveLength(1);
  }, 60_000);

  it("scopes transaction_id per advertiser", async () => {
    const a = await ingestFixture(stack);
    const b = await ingestFixture(stack);
    const transaction_id = `txn_${randomBase62(12)}`;
    expect(
      (await postSigned(stack, "/api/postback", a, conversionFields(a, { transaction_id }))).status,
    ).toBe(200);
    expect(
      (await postSigned(stack, "/api/postback", b, conversionFields(b, { transaction_id }))).status,
    ).toBe(200);
    await expectRefused(
      await postSigned(stack, "/api/sdk/conversion", a, conversionFields(a, { transaction_id })),
      409,
      "DUPLICATE_TRANSACTION",
    );
  });
});

describe("offer changes", () => {
  it("refuses conversions on an offer paused after it was cached, within the isolate cache's bound", async () => {
    const f = await ingestFixture(stack);
    expect((await postSigned(stack, "/api/postback", f, conversionFields(f))).status).toBe(200);
    await stack.db.updateTable("offers").set({ status: "paused" }).where("id", "=", f.offer_id).execute();
    const refused = await refusedWithin(() => postSigned(stack, "/api/postback", f, conversionFields(f)));
    await expectRefused(refused, 404, "INVALID_OFFER");
  });
});
