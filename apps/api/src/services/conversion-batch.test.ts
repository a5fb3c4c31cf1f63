// Unattributed conversions of concurrent requests written in one statement, on the real Postgres of
// the shared stack: duplicates inside one batch, a row Postgres refuses beside good ones, and an
// outage while the batch is written. (Over HTTP, postback.test.ts covers what a caller sees.)

import { newId } from "@afftrack/core";
import type { UncappedConversion } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeDb } from "../../../../packages/devstack/src/fixtures";
import { conversionRowOn, type SharedTestStack, sharedStack } from "../../../../tests/support";
import { isOutage } from "../errors";
import { insertConversionBatched } from "./conversion-batch";

let stack: SharedTestStack;
beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

const rowsOf = (advertiserId: string) =>
  stack.db
    .selectFrom("conversions")
    .select(["id", "transaction_id", "amount"])
    .where("advertiser_id", "=", advertiserId)
    .orderBy("transaction_id")
    .execute();

/** Approved conversions the 15-minute rollup counts for the offer. */
async function rolledUp(offerId: string): Promise<number> {
  const rows = await stack.db
    .selectFrom("stats_q")
    .select("approved_conversions")
    .where("offer_id", "=", offerId)
    .execute();
  return rows.reduce((sum, r) => sum + Number(r.approved_conversions), 0);
}

describe("insertConversionBatched", () => {
  it("records a transaction sent several times in one batch once: one insert, the rest null", async () => {
    const f = await stack.fixture();
    const row = (transactionId: string): UncappedConversion => ({
      ...conversionRowOn(f, null, { transaction_id: transactionId, amount: 29.99 }),
      click_id: null,
    });
    // Submitted in the same turn: one batch.
    const results = await Promise.all([
      insertConversionBatched(stack.db, row("dup")),
      insertConversionBatched(stack.db, row("dup")),
      insertConversionBatched(stack.db, row("other")),
      insertConversionBatched(stack.db, row("dup")),
    ]);
    expect(results.map((r) => r !== null)).toEqual([true, false, true, false]);
    const rows = await rowsOf(f.advertiser_id);
    expect(rows.map((r) => r.transaction_id)).toEqual(["dup", "other"]);
    // The first one sent is the one recorded, and the money is exact.
    expect(rows[0]?.id).toBe(results[0]?.id);
    expect(String(rows[0]?.amount)).toBe("29.9900");
    expect(await rolledUp(f.offer_id)).toBe(2);
    // A later batch finds it in Postgres.
    expect(await insertConversionBatched(stack.db, row("dup"))).toBeNull();
    expect(await rolledUp(f.offer_id)).toBe(2);
  });

  it("writes the good rows of a batch Postgres refuses, and fails only the bad one", async () => {
    const f = await stack.fixture();
    const row = (transactionId: string): UncappedConversion => ({
      ...conversionRowOn(f, null, { transaction_id: transactionId }),
      click_id: null,
    });
    const results = await Promise.allSettled([
      insertConversionBatched(stack.db, row("good-1")),
      // Postgres text cannot hold NUL: this row fails the batch statement, and then alone.
      insertConversionBatched(stack.db, row("bad-\u0000")),
      insertConversionBatched(stack.db, row("good-2")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeDefined();
    expect(isOutage((results[1] as PromiseRejectedResult).reason)).toBe(false);
    const rows = await rowsOf(f.advertiser_id);
    expect(rows.map((r) => r.transaction_id)).toEqual(["good-1", "good-2"]);
    expect(rows.map((r) => r.id).sort()).toEqual(
      results.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value.id] : [])).sort(),
    );
    expect(await rolledUp(f.offer_id)).toBe(2);
  });

  it("fails every conversion of a batch with the outage when Postgres is unreachable, recording none", async () => {
    const f = await stack.fixture();
    // Nothing listens on port 1: every connection is refused.
    const down = nodeDb("postgres://postgres@127.0.0.1:1/down");
    try {
      const rows = ["a", "b", "c"].map(
        (t): UncappedConversion => ({
          ...conversionRowOn(f, null, { id: newId("conv"), transaction_id: t }),
          click_id: null,
        }),
      );
      const results = await Promise.allSettled(rows.map((r) => insertConversionBatched(down, r)));
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
      for (const r of results) expect(isOutage((r as PromiseRejectedResult).reason)).toBe(true);
      expect(await rowsOf(f.advertiser_id)).toEqual([]);
    } finally {
      await down.destroy();
    }
  });
});
