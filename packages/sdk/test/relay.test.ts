// The web relay against the running stack: whatever a browser posts, it can only point at its click;
// the amount, the event type and the status come from the advertiser's server.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionRow, type IngestFixture, ingestFixture } from "../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../tests/support";
import { createIngestClient, type IngestClient, randomNonce, relayWebConversion } from "../src/index";

let stack: SharedTestStack;
let f: IngestFixture;
let ingest: IngestClient;

beforeAll(async () => {
  stack = sharedStack();
  f = await ingestFixture(stack);
  ingest = createIngestClient({
    baseUrl: stack.apiUrl,
    apiKey: f.api_key,
    advertiserId: f.advertiser_id,
    signingSecret: f.key.signing_secret,
    platform: "web",
  });
});
afterAll(() => stack.close());

const txn = () => `txn_${randomNonce(16)}`;

async function recorded(result: Awaited<ReturnType<typeof relayWebConversion>>) {
  expect(result).toMatchObject({ ok: true, status: 200 });
  const data = (result as { data: { conversion_id: string } }).data;
  return conversionRow(stack, data.conversion_id);
}

async function rowsOf(transactionId: string) {
  return stack.db
    .selectFrom("conversions")
    .select("id")
    .where("advertiser_id", "=", f.advertiser_id)
    .where("transaction_id", "=", transactionId)
    .execute();
}

describe("relayWebConversion", () => {
  it("records a browser's conversion pending, attributed, and ignores the amount it claims", async () => {
    const click = await ingest.trackClick({ offer_id: f.offer_id, tracking_code: f.tracking_code });
    if (!click.ok || !click.data) throw new Error("click refused");
    const transaction_id = txn();
    const row = await recorded(
      await relayWebConversion(
        ingest,
        { transaction_id, click_id: click.data.click_id, amount: 5000, currency: "EUR" },
        { offer_id: f.offer_id },
      ),
    );
    expect(row).toMatchObject({
      transaction_id,
      click_id: click.data.click_id,
      publisher_id: f.publisher_id,
      status: "pending",
      currency: "USD",
      event_type: "conversion",
    });
    expect(Number(row.amount)).toBe(0);
  });

  it("takes the amount and currency from the server, and a status only when the server says so", async () => {
    const pending = await recorded(
      await relayWebConversion(
        ingest,
        { transaction_id: txn(), amount: 9999.99 },
        { offer_id: f.offer_id, amount: 12.5, currency: "EUR" },
      ),
    );
    expect(pending).toMatchObject({ status: "pending", currency: "EUR" });
    expect(Number(pending.amount)).toBe(12.5);

    const approved = await recorded(
      await relayWebConversion(
        ingest,
        { transaction_id: txn(), status: "approved" },
        { offer_id: f.offer_id, amount: 30, status: "approved" },
      ),
    );
    expect(approved).toMatchObject({ status: "approved" });
    expect(Number(approved.amount)).toBe(30);
  });

  it("uses the browser's amount only when the server opts in, still pending", async () => {
    const row = await recorded(
      await relayWebConversion(
        ingest,
        { transaction_id: txn(), amount: 7.25, currency: "GBP" },
        { offer_id: f.offer_id, trustBrowserAmount: true },
      ),
    );
    expect(row).toMatchObject({ status: "pending", currency: "GBP" });
    expect(Number(row.amount)).toBe(7.25);
    expect(
      await relayWebConversion(
        ingest,
        { transaction_id: txn(), amount: "7.25" },
        { offer_id: f.offer_id, trustBrowserAmount: true },
      ),
    ).toBeNull();
  });

  it("refuses an event type the server does not allow, and records one it does", async () => {
    const refused = txn();
    expect(
      await relayWebConversion(
        ingest,
        { transaction_id: refused, event_type: "purchase" },
        { offer_id: f.offer_id },
      ),
    ).toBeNull();
    expect(
      await relayWebConversion(
        ingest,
        { transaction_id: refused, event_type: "purchase" },
        { offer_id: f.offer_id, eventTypes: ["signup"] },
      ),
    ).toBeNull();
    expect(await rowsOf(refused)).toHaveLength(0);

    const allowed = await recorded(
      await relayWebConversion(
        ingest,
        { transaction_id: txn(), event_type: "signup" },
        { offer_id: f.offer_id, eventTypes: ["signup"] },
      ),
    );
    expect(allowed).toMatchObject({ event_type: "signup", status: "pending" });

    // The server's own event type wins over the browser's.
    const forced = await recorded(
      await relayWebConversion(
        ingest,
        { transaction_id: txn(), event_type: "purchase" },
        { offer_id: f.offer_id, event_type: "lead" },
      ),
    );
    expect(forced).toMatchObject({ event_type: "lead" });
  });

  it("refuses a body that is not a conversion", async () => {
    expect(await relayWebConversion(ingest, null, { offer_id: f.offer_id })).toBeNull();
    expect(await relayWebConversion(ingest, { transaction_id: "" }, { offer_id: f.offer_id })).toBeNull();
    expect(await relayWebConversion(ingest, { amount: 5 }, { offer_id: f.offer_id })).toBeNull();
  });
});
