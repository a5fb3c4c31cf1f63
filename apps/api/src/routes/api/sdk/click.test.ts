// POST /api/sdk/click with the seed's example body and the s2s example's server-side fields: the click row,
// its SDK headers and its rollup.

import { SEED_CLICK_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ingestFixture,
  json,
  postSigned,
  seedFields,
  statsRow,
} from "../../../../../../tests/ingest-support";
import { BROWSER_UA, nextIp, type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

const SDK_HEADERS = { "x-sdk-version": "1.0.0", "x-sdk-platform": "android" };

describe("POST /api/sdk/click", () => {
  it("tracks the seed's click body, records SDK headers and answers with a click_id", async () => {
    const f = await ingestFixture(stack);
    const ip = nextIp();
    const res = await postSigned(
      stack,
      "/api/sdk/click",
      f,
      { ...seedFields(SEED_CLICK_REQUEST), offer_id: f.offer_id, tracking_code: f.tracking_code },
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
    expect(await statsRow(stack, f)).toMatchObject({ clicks: 1, valid_clicks: 1 });
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
