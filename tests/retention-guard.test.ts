// The retention job never drops clicks an offer may still credit a conversion to: a retention
// shorter than the longest attribution window is refused before anything is dropped.

import { runClickRetention } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SharedTestStack, sharedStack } from "./support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("click retention and attribution windows", () => {
  it("refuses a retention that would drop clicks inside an offer's attribution window", async () => {
    const f = await stack.fixture();
    await stack.db
      .updateTable("offers")
      .set({ attribution_window_days: 365 })
      .where("id", "=", f.offer_id)
      .execute();
    await expect(runClickRetention(stack.db, { retentionMonths: 3 })).rejects.toThrow(
      /365-day attribution window; keep at least 15 months/,
    );
  });
});
