// POST /api/sdk/batch: mixed clicks and conversions, one result per event, good and bad.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestFixture, json, postSigned } from "../../../../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

const SDK_HEADERS = { "x-sdk-version": "1.0.0", "x-sdk-platform": "android" };

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
