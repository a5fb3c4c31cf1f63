// Who a conversion pays: a publisher suspended or removed from a private offer earns nothing through
// SDK clicks, postbacks or links; a click older than the offer's window, or one that already has its
// cap of conversions of an event type, pays nothing (exactly the cap under concurrency).

import { createApiKey } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  conversionFields,
  conversionRow,
  type IngestFixture,
  ingestFixture,
  json,
  postRaw,
  postSigned,
  seedSigned,
  statsRow,
} from "../../../../tests/ingest-support";
import { buildNetwork, call, linkRecordOf } from "../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

async function sdkClick(f: IngestFixture): Promise<string> {
  const res = await postSigned(stack, "/api/sdk/click", f, {
    offer_id: f.offer_id,
    tracking_code: f.tracking_code,
  });
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.click_id as string;
}

async function postback(f: IngestFixture, extra: Record<string, unknown>) {
  const res = await postSigned(stack, "/api/postback", f, conversionFields(f, extra));
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return conversionRow(stack, body.data.conversion_id);
}

const clickVerdict = async (clickId: string) =>
  (
    await stack.db
      .selectFrom("clicks")
      .select("verdict")
      .where("click_id", "=", clickId)
      .executeTakeFirstOrThrow()
  ).verdict;

describe("publisher admission and status", () => {
  it("pays nothing to a publisher removed from a private offer: SDK clicks and earlier clicks' conversions", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    await stack.db
      .updateTable("offers")
      .set({ visibility: "private", allowed_publisher_ids: [f.publisher_id] })
      .where("id", "=", f.offer_id)
      .execute();
    const before = await sdkClick(f);
    expect(await clickVerdict(before)).toBe("valid");

    await stack.db
      .updateTable("offers")
      .set({ allowed_publisher_ids: [] })
      .where("id", "=", f.offer_id)
      .execute();
    const after = await sdkClick(f);
    expect(await clickVerdict(after)).toBe("paused");

    for (const clickId of [before, after]) {
      const row = await postback(f, { click_id: clickId });
      expect(row).toMatchObject({ publisher_id: null, payout: "0.0000", reported_click_id: clickId });
      expect(["publisher_not_eligible", "click_not_counted"]).toContain(row.attribution);
    }
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 0, payout: "0.0000", valid_clicks: 1 });
  });

  it("pays nothing through SDK clicks of a suspended publisher, nor on their earlier clicks", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    const before = await sdkClick(f);
    await stack.db
      .updateTable("publishers")
      .set({ status: "suspended" })
      .where("id", "=", f.publisher_id)
      .execute();
    const after = await sdkClick(f);
    expect(await clickVerdict(after)).toBe("paused");
    const early = await postback(f, { click_id: before });
    expect(early).toMatchObject({
      attribution: "publisher_not_eligible",
      publisher_id: null,
      payout: "0.0000",
    });
    const late = await postback(f, { click_id: after });
    expect(late).toMatchObject({ attribution: "click_not_counted", publisher_id: null, payout: "0.0000" });
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 0, payout: "0.0000", valid_clicks: 1 });
  });

  it("rewrites the link record at once when the publisher is removed from a private offer", async () => {
    const net = await buildNetwork(stack, "Admission");
    const made = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { visibility: "private", allowed_publisher_ids: [net.publisher_id] },
    });
    expect(made.status).toBe(200);
    const joined = await call(stack, "POST", `/api/offers/${net.offer_id}/join`, {
      token: net.publisherToken,
    });
    expect(joined.status, joined.text).toBeLessThan(300);
    const code = joined.body.data.tracking_code as string;
    expect((await linkRecordOf(stack, code))?.status).toBe("active");

    const removed = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { allowed_publisher_ids: [] },
    });
    expect(removed.status).toBe(200);
    expect((await linkRecordOf(stack, code))?.status).toBe("paused");

    // And an SDK click on that code is recorded without credit.
    const key = await createApiKey(stack.db, { tenant_id: net.tenant_id, advertiser_id: net.advertiser_id });
    const creds = { api_key: key.key, advertiser_id: net.advertiser_id };
    const res = await postSigned(stack, "/api/sdk/click", creds, {
      offer_id: net.offer_id,
      tracking_code: code,
    });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await clickVerdict(body.data.click_id)).toBe("paused");
  });
});

describe("attribution window and per-click cap", () => {
  it("records a conversion on a click older than the window unattributed (default 30 days)", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    const old = await sdkClick(f);
    const recent = await sdkClick(f);
    await stack.db
      .updateTable("clicks")
      .set({ created_at: new Date(Date.now() - 400 * 86_400_000) })
      .where("click_id", "=", old)
      .execute();
    await stack.db
      .updateTable("clicks")
      .set({ created_at: new Date(Date.now() - 29 * 86_400_000) })
      .where("click_id", "=", recent)
      .execute();
    expect(await postback(f, { click_id: old })).toMatchObject({
      attribution: "click_too_old",
      publisher_id: null,
      payout: "0.0000",
    });
    expect(await postback(f, { click_id: recent })).toMatchObject({
      attribution: "click",
      publisher_id: f.publisher_id,
      payout: "4.0000",
    });
  });

  it("honours the offer's attribution_window_days", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    await stack.db
      .updateTable("offers")
      .set({ attribution_window_days: 1 })
      .where("id", "=", f.offer_id)
      .execute();
    const click = await sdkClick(f);
    await stack.db
      .updateTable("clicks")
      .set({ created_at: new Date(Date.now() - 2 * 86_400_000) })
      .where("click_id", "=", click)
      .execute();
    expect(await postback(f, { click_id: click })).toMatchObject({
      attribution: "click_too_old",
      payout: "0.0000",
    });
  });

  it("pays one conversion per click by default; the rest are click_cap_reached", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    const click = await sdkClick(f);
    const rows = [];
    for (let i = 0; i < 5; i++) rows.push(await postback(f, { click_id: click }));
    expect(rows.map((r) => r.attribution)).toEqual([
      "click",
      "click_cap_reached",
      "click_cap_reached",
      "click_cap_reached",
      "click_cap_reached",
    ]);
    expect(rows.slice(1).every((r) => r.payout === "0.0000" && r.publisher_id === null)).toBe(true);
    // Event types are the caller's choice: by default they share the click's cap, so a new name
    // for the same sale is not paid again.
    expect(await postback(f, { click_id: click, event_type: "install" })).toMatchObject({
      attribution: "click_cap_reached",
      event_type: "install",
      payout: "0.0000",
    });
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 1, payout: "4.0000" });
  });

  it("with paid_event_types, pays each listed type once per click and no other type", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    await stack.db
      .updateTable("offers")
      .set({ paid_event_types: ["install", "purchase"] })
      .where("id", "=", f.offer_id)
      .execute();
    const click = await sdkClick(f);
    const install = await postback(f, { click_id: click, event_type: "install" });
    const purchase = await postback(f, { click_id: click, event_type: "purchase" });
    const again = await postback(f, { click_id: click, event_type: "purchase" });
    const other = await postback(f, { click_id: click, event_type: "signup" });
    expect([install, purchase, again, other].map((r) => [r.attribution, r.payout])).toEqual([
      ["click", "4.0000"],
      ["click", "4.0000"],
      ["click_cap_reached", "0.0000"],
      ["event_type_not_paid", "0.0000"],
    ]);
    expect(other.publisher_id).toBeNull();
  });

  it("keeps a click paid once when the offer switches how it caps event types, either way", async () => {
    const setTypes = (f: { offer_id: string }, types: string[]) =>
      stack.db.updateTable("offers").set({ paid_event_types: types }).where("id", "=", f.offer_id).execute();
    // Shared cap first, then per type: the purchase already paid on the click stays counted.
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    const click = await sdkClick(f);
    expect((await postback(f, { click_id: click, event_type: "purchase" })).attribution).toBe("click");
    await setTypes(f, ["purchase", "install"]);
    await new Promise((r) => setTimeout(r, 1100)); // the ingestion offer cache (1 s)
    expect((await postback(f, { click_id: click, event_type: "purchase" })).attribution).toBe(
      "click_cap_reached",
    );
    expect((await postback(f, { click_id: click, event_type: "install" })).attribution).toBe("click");
    // Per type first, then shared: the click has used its one shared slot.
    const g = await ingestFixture(stack, { payoutAmount: 4 });
    await setTypes(g, ["purchase"]);
    const other = await sdkClick(g);
    expect((await postback(g, { click_id: other, event_type: "purchase" })).attribution).toBe("click");
    await setTypes(g, []);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await postback(g, { click_id: other, event_type: "signup" })).attribution).toBe(
      "click_cap_reached",
    );
  });

  it("frees a click's slot when its conversion is rejected, and a rejected one never takes it", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    const click = await sdkClick(f);
    const rejectedAtOnce = await postback(f, { click_id: click, status: "rejected" });
    expect(rejectedAtOnce.attribution).toBe("click");
    const first = await postback(f, { click_id: click });
    expect(first.attribution).toBe("click");
    expect((await postback(f, { click_id: click })).attribution).toBe("click_cap_reached");
    const reject = await postSigned(stack, "/api/conversions/status", f, {
      transaction_id: first.transaction_id,
      status: "rejected",
    });
    expect(reject.status).toBe(200);
    expect(await postback(f, { click_id: click })).toMatchObject({ attribution: "click", payout: "4.0000" });
  });

  it("lets a transaction take a slot on one click only, even when it races onto two clicks", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 4 });
    const [a, b] = [await sdkClick(f), await sdkClick(f)];
    const fields = conversionFields(f);
    const answers = await Promise.all(
      [a, b].map((click) => postSigned(stack, "/api/postback", f, { ...fields, click_id: click })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    // Whichever click lost the race still has its slot for a real conversion.
    for (const click of [a, b]) {
      const slot = await stack.db
        .selectFrom("click_conversion_slots")
        .select("transaction_ids")
        .where("click_id", "=", click)
        .executeTakeFirst();
      const won = (slot?.transaction_ids ?? []).includes(fields.transaction_id as string);
      if (!won) expect((await postback(f, { click_id: click })).attribution).toBe("click");
    }
  });

  it("pays exactly conversions_per_click under 30 concurrent conversions on one click", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 1 });
    await stack.db
      .updateTable("offers")
      .set({ conversions_per_click: 3 })
      .where("id", "=", f.offer_id)
      .execute();
    const click = await sdkClick(f);
    const bodies = await Promise.all(
      Array.from({ length: 30 }, () => seedSigned(f, conversionFields(f, { click_id: click }))),
    );
    const responses = await Promise.all(
      bodies.map((b) => postRaw(stack, "/api/postback", JSON.stringify(b), { apiKeyHeader: f.api_key })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
    const rows = await stack.db
      .selectFrom("conversions")
      .select(["attribution", "payout"])
      .where("advertiser_id", "=", f.advertiser_id)
      .execute();
    expect(rows.filter((r) => r.attribution === "click")).toHaveLength(3);
    expect(rows.filter((r) => r.attribution === "click_cap_reached")).toHaveLength(27);
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 3, payout: "3.0000" });
  });

  it("sets and validates attribution_window_days and conversions_per_click through the offers API", async () => {
    const net = await buildNetwork(stack, "Rules");
    const got = await call(stack, "GET", `/api/offers/${net.offer_id}`, { token: net.advertiserToken });
    expect(got.body.data).toMatchObject({ attribution_window_days: 30, conversions_per_click: 1 });
    const set = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
      token: net.advertiserToken,
      body: { attribution_window_days: 7, conversions_per_click: 5 },
    });
    expect(set.body.data).toMatchObject({ attribution_window_days: 7, conversions_per_click: 5 });
    for (const body of [
      { attribution_window_days: 0 },
      { attribution_window_days: 366 },
      { conversions_per_click: 0 },
      { conversions_per_click: 101 },
      { conversions_per_click: 1.5 },
    ]) {
      const res = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
        token: net.advertiserToken,
        body,
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe("INVALID_PARAMS");
    }
  });
});
