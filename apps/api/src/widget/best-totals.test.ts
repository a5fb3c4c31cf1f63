// The widget channel's best totals survive a wake-up: a new BestTotals over the same storage (what
// the Durable Object builds after hibernation) still refuses a lower, out-of-order total.

import { describe, expect, it } from "vitest";
import { BestTotals, type TotalsStorage } from "./best-totals";

/** The storage API's contract (get/put of structured values) over a Map, as ctx.storage keeps it. */
function memoryStorage(): TotalsStorage & { writes: number } {
  const data = new Map<string, unknown>();
  return {
    writes: 0,
    async get<T>(key: string) {
      return structuredClone(data.get(key)) as T | undefined;
    },
    async put<T>(key: string, value: T) {
      this.writes++;
      data.set(key, structuredClone(value));
    },
  };
}

describe("BestTotals", () => {
  it("keeps the highest totals across a wake-up, so a late notice never lowers a widget", async () => {
    const storage = memoryStorage();
    const before = new BestTotals(storage);
    await before.load();
    expect(before.remember("", 7)).toBe(7);
    expect(before.remember("c:jan", 3)).toBe(3);
    await before.flush();

    const after = new BestTotals(storage); // the object woke up from hibernation
    await after.load();
    expect(after.remember("", 5)).toBe(7);
    expect(after.remember("c:jan", 2)).toBe(3);
    expect(after.remember("c:feb", null)).toBe(0);
    expect(after.remember("", 8)).toBe(8);
    await after.flush();
    const third = new BestTotals(storage);
    await third.load();
    expect(third.remember("", 0)).toBe(8);
  });

  it("writes only when a total grew", async () => {
    const storage = memoryStorage();
    const best = new BestTotals(storage);
    await best.load();
    best.remember("", 4);
    await best.flush();
    expect(storage.writes).toBe(1);
    best.remember("", 3);
    best.remember("c:x", 0);
    await best.flush();
    expect(storage.writes).toBe(1);
  });
});
