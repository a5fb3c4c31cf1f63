// The ingestion API's success paths with the seed's example bodies: SDK click, SDK conversion,
// postback, batch and status changes, with the rows, rollups and attribution they must leave.

import { CLICK_ATTRIBUTION_TTL_SECONDS, clickKey, newClickId } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFields, ingestFixture, json, postSigned } from "./ingest-support";
import {
  BROWSER_UA,
  clickIdOf,
  nextIp,
  signedPath,
  startTestStack,
  type TestStack,
  waitFor,
} from "./support";

let stack: TestStack;
let redis: Redis;

beforeAll(async () => {
  stack = await startTestStack();
  redis = new Redis({ url: stack.redisRestUrl, token: stack.redisRestToken });
});
afterAll(async () => {
  await stack?.close();
});

const SDK_HEADERS = { "x-sdk-version": "1.0.0", "x-sdk-platform": "android" };

async function conversionRow(id: string) {
  return stack.db.selectFrom("conversions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

async function statsRow(f: { offer_id: string; publisher_id: string }) {
  return stack.db
    .selectFrom("stats_daily")
    .selectAll()
    .where("offer_id", "=", f.offer_id)
    .where("publisher_id", "=", f.publisher_id)
    .executeTakeFirst();
}

describe("POST /api/sdk/click", () => {
  it("tracks the seed's click body, records SDK headers and answers with a click_id", async () => {
    const f = await ingestFixture(stack);
    const ip = nextIp();
    const res = await postSigned(
      stack,
      "/api/sdk/click",
      f,
      {
        offer_id: f.offer_id,
        tracking_code: f.tracking_code,
        sub_id_1: "source",
        sub_id_2: "medium",
        sub_id_3: "campaign",
        user_id: "user_123",
        device_info: {
          device_id: "uuid",
          fingerprint: "sha256_hash",
          platform: "android",
          os_version: "13",
          model: "Pixel 7",
        },
        custom_params: { key: "value" },
      },
      { headers: SDK_HEADERS, ip },
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      success: true,
      message: "Click tracked successfully",
      data: { offer_id: f.offer_id, tracking_code: f.tracking_code },
    });
    expect(body.data.click_id).toMatch(/^clk_/);
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    const row = await stack.db
      .selectFrom("clicks")
      .selectAll()
      .where("click_id", "=", body.data.click_id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      source: "sdk",
      verdict: "valid",
      offer_id: f.offer_id,
      publisher_id: f.publisher_id,
      advertiser_id: f.advertiser_id,
      sub1: "source",
      sub2: "medium",
      sub3: "campaign",
      sdk_version: "1.0.0",
      sdk_platform: "android",
      country: "US",
    });
    expect(row.sdk_meta).toMatchObject({ user_id: "user_123", device_info: { model: "Pixel 7" } });
    expect(row.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(row)).not.toContain(ip);
    expect(await statsRow(f)).toMatchObject({ clicks: 1, valid_clicks: 1 });
  });

  it("takes the s2s example's ip and user_agent, and the key from the body alone", async () => {
    const f = await ingestFixture(stack);
    const res = await postSigned(
      stack,
      "/api/sdk/click",
      f,
      {
        offer_id: f.offer_id,
        tracking_code: f.tracking_code,
        ip: "192.168.1.1",
        user_agent: BROWSER_UA,
      },
      { apiKeyHeader: false },
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    const row = await stack.db
      .selectFrom("clicks")
      .selectAll()
      .where("click_id", "=", body.data.click_id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ device: "desktop", os: "Windows", browser: "Chrome", sdk_version: null });
  });
});

describe("POST /api/sdk/conversion", () => {
  it("tracks the seed's conversion body attributed to an SDK click, with payout and rollup", async () => {
    const f = await ingestFixture(stack, { payoutType: "cpa", payoutAmount: 4.5 });
    const click = await json(
      await postSigned(stack, "/api/sdk/click", f, { offer_id: f.offer_id, tracking_code: f.tracking_code }),
    );
    const res = await postSigned(
      stack,
      "/api/sdk/conversion",
      f,
      {
        offer_id: f.offer_id,
        transaction_id: "txn_abc123",
        click_id: click.data.click_id,
        amount: 29.99,
        currency: "USD",
        status: "approved",
        user_id: "user_123",
        device_info: { device_id: "uuid", fingerprint: "sha256_hash" },
        custom_params: { product_id: "prod_456" },
        metadata: { category: "electronics" },
      },
      { headers: SDK_HEADERS },
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      success: true,
      message: "Conversion tracked successfully",
      data: {
        conversion_id: expect.stringMatching(/^conv_/),
        offer_id: f.offer_id,
        transaction_id: "txn_abc123",
        amount: 29.99,
        currency: "USD",
        status: "approved",
      },
    });
    const row = await conversionRow(body.data.conversion_id);
    expect(row).toMatchObject({
      advertiser_id: f.advertiser_id,
      click_id: click.data.click_id,
      publisher_id: f.publisher_id,
      attribution: "click",
      source: "sdk",
      status: "approved",
      amount: "29.9900",
      currency: "USD",
      payout: "4.5000",
      sdk_version: "1.0.0",
      sdk_platform: "android",
      custom_params: { product_id: "prod_456" },
      metadata: { category: "electronics" },
    });
    expect(await statsRow(f)).toMatchObject({ conversions: 1, revenue: "29.9900", payout: "4.5000" });
    const history = await stack.db
      .selectFrom("conversion_status_history")
      .selectAll()
      .where("conversion_id", "=", row.id)
      .execute();
    expect(history).toMatchObject([{ from_status: null, to_status: "approved" }]);
  });

  it("defaults the currency to USD and computes a revenue-share payout", async () => {
    const f = await ingestFixture(stack, { payoutType: "revshare", payoutAmount: 30 });
    const click = await json(
      await postSigned(stack, "/api/sdk/click", f, { offer_id: f.offer_id, tracking_code: f.tracking_code }),
    );
    const res = await postSigned(stack, "/api/sdk/conversion", f, {
      offer_id: f.offer_id,
      transaction_id: "txn_rev_1",
      click_id: click.data.click_id,
      amount: 100,
    });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data).toMatchObject({ currency: "USD", status: "approved", amount: 100 });
    expect(await conversionRow(body.data.conversion_id)).toMatchObject({
      payout: "30.0000",
      currency: "USD",
    });
  });
});

describe("POST /api/postback", () => {
  it("accepts the seed's postback body and answers with conversion_id only", async () => {
    const f = await ingestFixture(stack);
    const res = await postSigned(stack, "/api/postback", f, {
      offer_id: f.offer_id,
      transaction_id: "txn_abc123",
      click_id: "click_xyz",
      amount: 29.99,
      currency: "USD",
      status: "approved",
      custom_params: { product_id: "prod_456" },
    });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      success: true,
      message: "Postback received",
      data: { conversion_id: expect.stringMatching(/^conv_/) },
    });
    // "click_xyz" is no click of ours: recorded, but not attributed and no payout.
    expect(await conversionRow(body.data.conversion_id)).toMatchObject({
      attribution: "click_not_found",
      reported_click_id: "click_xyz",
      click_id: null,
      publisher_id: null,
      payout: "0.0000",
      source: "postback",
    });
  });

  it("attributes a conversion whose click is still in the queue (edge's Redis copy)", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 7 });
    const clickId = newClickId();
    await redis.set(
      clickKey(clickId),
      {
        click_id: clickId,
        tenant_id: f.tenant_id,
        advertiser_id: f.advertiser_id,
        offer_id: f.offer_id,
        publisher_id: f.publisher_id,
        tracking_code: f.tracking_code,
        verdict: "valid",
        created_at: Date.now(),
      },
      { ex: CLICK_ATTRIBUTION_TTL_SECONDS },
    );
    const inPostgres = await stack.db
      .selectFrom("clicks")
      .select("click_id")
      .where("click_id", "=", clickId)
      .executeTakeFirst();
    expect(inPostgres).toBeUndefined();
    const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await conversionRow(body.data.conversion_id)).toMatchObject({
      attribution: "click",
      click_id: clickId,
      publisher_id: f.publisher_id,
      tracking_code: f.tracking_code,
      payout: "7.0000",
    });
  });

  it("attributes a conversion posted right after a real redirect through the edge", async () => {
    const f = await ingestFixture(stack);
    const visit = await stack.mf.dispatchFetch(new URL(await signedPath(f), stack.edgeUrl), {
      redirect: "manual",
      headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
    });
    expect(visit.status).toBe(302);
    const clickId = clickIdOf(visit.headers.get("location"));
    // The edge writes the attribution in waitUntil; give it the moment a real advertiser would take.
    let body: Awaited<ReturnType<typeof json>> | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
      body = await json(res);
      expect(res.status, JSON.stringify(body)).toBe(200);
      const row = await conversionRow(body.data.conversion_id);
      if (row.attribution === "click") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await conversionRow(body?.data.conversion_id)).toMatchObject({
      click_id: clickId,
      publisher_id: f.publisher_id,
    });
  });

  it("records a conversion on a click that was not counted, but pays no one for it", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 9 });
    // An unsigned link with legacy links off: the visitor lands, the click is invalid_signature.
    const visit = await stack.mf.dispatchFetch(new URL(`/c/${f.tracking_code}`, stack.edgeUrl), {
      redirect: "manual",
      headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
    });
    expect(visit.status).toBe(302);
    const clickId = clickIdOf(visit.headers.get("location"));
    await waitFor(() =>
      stack.db.selectFrom("clicks").select("click_id").where("click_id", "=", clickId).executeTakeFirst(),
    );
    const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await conversionRow(body.data.conversion_id)).toMatchObject({
      attribution: "click_not_counted",
      click_verdict: "invalid_signature",
      reported_click_id: clickId,
      publisher_id: null,
      payout: "0.0000",
    });
    expect(await statsRow(f)).toMatchObject({ conversions: 0 });
  });

  it("does not attribute a click of another advertiser, but records the conversion", async () => {
    const mine = await ingestFixture(stack);
    const theirs = await ingestFixture(stack);
    const click = await json(
      await postSigned(stack, "/api/sdk/click", theirs, {
        offer_id: theirs.offer_id,
        tracking_code: theirs.tracking_code,
      }),
    );
    const res = await postSigned(
      stack,
      "/api/postback",
      mine,
      conversionFields(mine, { click_id: click.data.click_id }),
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await conversionRow(body.data.conversion_id)).toMatchObject({
      attribution: "click_of_other_advertiser",
      click_id: null,
      publisher_id: null,
      payout: "0.0000",
    });
    expect(await statsRow(theirs)).toMatchObject({ conversions: 0 });
  });
});

describe("POST /api/sdk/batch", () => {
  it("records mixed clicks and conversions with one result per event, good and bad", async () => {
    const f = await ingestFixture(stack);
    const res = await postSigned(
      stack,
      "/api/sdk/batch",
      f,
      {
        events: [
          { type: "click", offer_id: f.offer_id, tracking_code: f.tracking_code, sub_id_1: "b1" },
          { type: "conversion", offer_id: f.offer_id, transaction_id: "txn_b1", amount: 10 },
          { type: "conversion", offer_id: f.offer_id, transaction_id: "txn_b1", amount: 10 },
          { type: "conversion", offer_id: f.offer_id, transaction_id: "txn_b2", amount: -5 },
          { type: "refund", offer_id: f.offer_id },
          { type: "click", offer_id: "off_nope", tracking_code: f.tracking_code },
          "not an object",
        ],
      },
      { headers: SDK_HEADERS },
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.message).toBe("Batch processed");
    expect(body.data.accepted).toBe(2);
    expect(body.data.rejected).toBe(5);
    const results = body.data.results;
    expect(results[0]).toMatchObject({ index: 0, type: "click", success: true });
    expect(results[0].data.click_id).toMatch(/^clk_/);
    expect(results[1]).toMatchObject({
      index: 1,
      type: "conversion",
      success: true,
      data: { transaction_id: "txn_b1" },
    });
    expect(results[2]).toMatchObject({ index: 2, success: false, code: "DUPLICATE_TRANSACTION" });
    expect(results[3]).toMatchObject({ index: 3, success: false, code: "INVALID_PARAMS" });
    expect(results[3].error).toContain("events.3.amount");
    expect(results[4]).toMatchObject({ index: 4, type: "refund", success: false, code: "INVALID_PARAMS" });
    expect(results[5]).toMatchObject({ index: 5, success: false, code: "INVALID_OFFER" });
    expect(results[6]).toMatchObject({ index: 6, type: null, success: false, code: "INVALID_PARAMS" });
    const conversions = await stack.db
      .selectFrom("conversions")
      .select(["transaction_id", "source", "sdk_platform"])
      .where("advertiser_id", "=", f.advertiser_id)
      .execute();
    expect(conversions).toEqual([{ transaction_id: "txn_b1", source: "batch", sdk_platform: "android" }]);
    const clicks = await stack.db
      .selectFrom("clicks")
      .select(["click_id", "sub1"])
      .where("advertiser_id", "=", f.advertiser_id)
      .execute();
    expect(clicks).toEqual([{ click_id: results[0].data.click_id, sub1: "b1" }]);
  });
});

describe("POST /api/conversions/status", () => {
  it("moves pending → approved → rejected, keeps the history and moves the rollup", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 3 });
    const click = await json(
      await postSigned(stack, "/api/sdk/click", f, { offer_id: f.offer_id, tracking_code: f.tracking_code }),
    );
    const created = await json(
      await postSigned(
        stack,
        "/api/postback",
        f,
        conversionFields(f, { click_id: click.data.click_id, status: "pending", amount: 50 }),
      ),
    );
    const id = created.data.conversion_id;
    expect(await statsRow(f)).toMatchObject({ conversions: 0, revenue: "0.0000" });

    const approve = await postSigned(stack, "/api/conversions/status", f, {
      conversion_id: id,
      status: "approved",
    });
    expect(await json(approve)).toMatchObject({
      success: true,
      data: { conversion_id: id, previous_status: "pending", status: "approved" },
    });
    expect(await statsRow(f)).toMatchObject({ conversions: 1, revenue: "50.0000", payout: "3.0000" });

    const row = await conversionRow(id);
    const reject = await postSigned(stack, "/api/conversions/status", f, {
      transaction_id: row.transaction_id,
      status: "rejected",
      reason: "chargeback",
    });
    expect(reject.status).toBe(200);
    expect(await statsRow(f)).toMatchObject({ conversions: 0, revenue: "0.0000", payout: "0.0000" });

    const again = await postSigned(stack, "/api/conversions/status", f, {
      conversion_id: id,
      status: "approved",
    });
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ success: false, code: "CONFLICT" });

    const history = await stack.db
      .selectFrom("conversion_status_history")
      .select(["from_status", "to_status", "reason", "source"])
      .where("conversion_id", "=", id)
      .orderBy("id")
      .execute();
    expect(history).toEqual([
      { from_status: null, to_status: "pending", reason: null, source: "postback" },
      { from_status: "pending", to_status: "approved", reason: null, source: "api" },
      { from_status: "approved", to_status: "rejected", reason: "chargeback", source: "api" },
    ]);
    expect((await conversionRow(id)).status).toBe("rejected");
  });

  it("answers 404 for a conversion of another advertiser", async () => {
    const mine = await ingestFixture(stack);
    const theirs = await ingestFixture(stack);
    const created = await json(await postSigned(stack, "/api/postback", theirs, conversionFields(theirs)));
    const res = await postSigned(stack, "/api/conversions/status", mine, {
      conversion_id: created.data.conversion_id,
      status: "rejected",
    });
    expect(res.status).toBe(404);
    expect((await conversionRow(created.data.conversion_id)).status).toBe("approved");
  });
});
