// The isolate's micro-batcher on its own (no stack): who shares a batch, per-item outcomes, a
// failed batch, a full batch, and a follower whose leader never answers.

import { describe, expect, it } from "vitest";
import { isOutage } from "../errors";
import { createMicroBatcher, LeaderLostError, type Settled } from "./micro-batch";

/** A batcher that records each batch it ran; items named "bad" fail alone. */
function recording(opts: { windowMs?: number; maxItems?: number } = {}) {
  const batches: string[][] = [];
  const batcher = createMicroBatcher<string, string>({
    windowMs: opts.windowMs ?? 1,
    maxItems: opts.maxItems ?? 100,
    async run(items): Promise<Settled<string>[]> {
      batches.push([...items]);
      return items.map((item) =>
        item === "bad"
          ? { ok: false, error: new Error(`refused ${item}`) }
          : { ok: true, value: item.toUpperCase() },
      );
    },
  });
  return { batches, batcher };
}

describe("createMicroBatcher", () => {
  it("runs items submitted within the window as one batch, each with its own outcome", async () => {
    const { batches, batcher } = recording();
    const results = await Promise.allSettled(["a", "bad", "c"].map((x) => batcher.submit(x)));
    expect(batches).toEqual([["a", "bad", "c"]]);
    expect(results[0]).toEqual({ status: "fulfilled", value: "A" });
    expect(results[1]).toMatchObject({ status: "rejected", reason: { message: "refused bad" } });
    expect(results[2]).toEqual({ status: "fulfilled", value: "C" });
  });

  it("starts a new batch after the window closed, and when a batch is full", async () => {
    const { batches, batcher } = recording({ maxItems: 2 });
    await Promise.all(["a", "b", "c"].map((x) => batcher.submit(x)));
    await batcher.submit("d");
    expect(batches).toEqual([["a", "b"], ["c"], ["d"]]);
  });

  it("with maxInFlight 1, lets the next batch grow while one runs (group commit)", async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstRuns = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = createMicroBatcher<number, number>({
      windowMs: 0,
      maxItems: 100,
      maxInFlight: 1,
      async run(items) {
        batches.push([...items]);
        if (batches.length === 1) await firstRuns;
        return items.map((value) => ({ ok: true, value }));
      },
    });
    const first = batcher.submit(1);
    await new Promise((r) => setTimeout(r, 20));
    // The first batch is running: these arrive one by one, and wait together for it.
    const later: Promise<number>[] = [];
    for (const n of [2, 3, 4]) {
      later.push(batcher.submit(n));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it("fails every item of a batch whose run throws", async () => {
    const batcher = createMicroBatcher<number, number>({
      windowMs: 0,
      maxItems: 10,
      run: async () => {
        throw new Error("backend down");
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((x) => batcher.submit(x)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of results) expect((r as PromiseRejectedResult).reason.message).toBe("backend down");
  });

  it("hands the leader's batch to waitUntil, so it outlives the leader's own request", async () => {
    const { batcher } = recording();
    const kept: Promise<unknown>[] = [];
    const answer = batcher.submit("x", { waitUntil: (p) => kept.push(p) });
    expect(kept).toHaveLength(1);
    expect(await answer).toBe("X");
  });

  it("gives a follower up with LeaderLostError when its started batch never settles", async () => {
    const batcher = createMicroBatcher<string, string>({
      windowMs: 0,
      maxItems: 10,
      followMaxMs: 150,
      startedMaxMs: 100,
      run: () => new Promise(() => {}),
    });
    void batcher.submit("leader").catch(() => {});
    const started = Date.now();
    const lost = await batcher.submit("follower").catch((err: unknown) => err);
    expect(lost).toBeInstanceOf(LeaderLostError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    // Retryable: a route whose batch was lost answers 503 with Retry-After, never 500.
    expect(isOutage(lost)).toBe(true);
  });

  it("withdraws a follower that gave up before its batch started: the late batch leaves it out", async () => {
    const ran: string[][] = [];
    const batcher = createMicroBatcher<string, string>({
      // The leader's window outlasts the follower's patience (a stalled leader, say).
      windowMs: 600,
      maxItems: 10,
      followMaxMs: 100,
      async run(items) {
        ran.push([...items]);
        return items.map((value) => ({ ok: true as const, value }));
      },
    });
    const leader = batcher.submit("leader");
    const gaveUp = await batcher.submit("follower").catch((err: unknown) => err);
    expect(gaveUp).toBeInstanceOf(LeaderLostError);
    expect(ran).toEqual([]);
    expect(await leader).toBe("leader");
    // The follower answered "failed": its item was never run.
    expect(ran).toEqual([["leader"]]);
  });
});
