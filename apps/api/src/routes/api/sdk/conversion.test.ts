// POST /api/sdk/conversion with the seed's example body: attribution to an SDK click, payout (CPA and
// revenue share) and the rollup.

import { SEED_CONVERSION_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  conversionRow,
  ingestFixture,
  json,
  postSigned,
  seedFields,
  statsRow,
} from "../../../../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

const SDK_HEADERS = { "x-sdk-version": "1.0.0", "x-sdk-platform": "android" };

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
      { ...seedFields(SEED_CONVERSION_REQUEST), offer_id: f.offer_id, click_id: click.data.click_id },
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
    const row = await conversionRow(stack, body.data.conversion_id);
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
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 1, revenue: "29.9900", payout: "4.5000" });
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
    expect(await conversionRow(stack, body.data.conversion_id)).toMatchObject({
      payout: "30.0000",
      currency: "USD",
    });
  });
});
