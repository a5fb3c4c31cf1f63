// Micro-batching inside an isolate: work items that concurrent requests submit within a short
// window are run together (one Redis pipeline, one multi-row statement), each item with its own
// outcome. The first item of a window makes its request the leader: it waits the window out on a
// timer of its own, then runs the batch with its own I/O (kept alive with waitUntil). Every other
// request only appends plain data and waits, keeping a timer of its own pending meanwhile: workerd
// cancels, as hung, a request that waits only on another request's I/O (the edge's link lookups do
// the same). A follower whose batch has not started after `followMaxMs` withdraws its item (the
// run will leave it out) and gives up; once the run has taken its item, it waits for the outcome
// (up to `startedMaxMs` more), so a request never answers "failed" for work that then happens.

export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface MicroBatchOptions<I, O> {
  /** How long the first item of a batch waits for others, ms (0: until the runtime's next turn). */
  windowMs: number;
  /** Most items in one batch; a full batch closes at once and the next item starts another. */
  maxItems: number;
  /**
   * Runs one batch: one outcome per item, in order. Throwing settles every item with that error.
   * It runs in the leader's request; the leader's item is the first.
   */
  run(items: I[]): Promise<Settled<O>[]>;
  /** How long a follower waits for its batch's outcome before giving up (default 10 s). */
  followMaxMs?: number;
  /** How much longer a follower waits once the run has taken its item (default 60 s). */
  startedMaxMs?: number;
  /**
   * Batches running at once at most (default: no bound). A leader whose window closed while this
   * many run keeps its batch open, so it grows until one finishes (group commit): for writes
   * that contend on the same rows, where concurrent batches would only wait on each other's locks.
   */
  maxInFlight?: number;
}

export interface SubmitOptions {
  /** The submitting request's ctx.waitUntil: a leader's batch then outlives its own request. */
  waitUntil?: (work: Promise<unknown>) => void;
}

export interface MicroBatcher<I, O> {
  /** The item's outcome; rejects with the batch's error, or LeaderLostError (see followMaxMs). */
  submit(item: I, opts?: SubmitOptions): Promise<O>;
}

/** A follower's batch did not settle within followMaxMs (its leader was cancelled, or hangs). */
export class LeaderLostError extends Error {
  override name = "LeaderLostError";
}

/** How often a waiting follower's own timer fires (it only keeps the request alive). */
const FOLLOW_TICK_MS = 100;

interface Entry<I, O> {
  item: I;
  outcome?: Settled<O>;
  wake: () => void;
  settled: Promise<void>;
  /** The batch's run has taken this item: its effect may happen, so its follower waits it out. */
  started?: boolean;
  /** Its follower gave up before the run took it: the run leaves it out (it never happens). */
  withdrawn?: boolean;
}

/**
 * @example
 * const inserts = createMicroBatcher<Row, Result>({ windowMs: 1, maxItems: 100, run: insertAll });
 * const result = await inserts.submit(row, { waitUntil: (p) => c.executionCtx.waitUntil(p) });
 */
export function createMicroBatcher<I, O>(opts: MicroBatchOptions<I, O>): MicroBatcher<I, O> {
  const followMaxMs = opts.followMaxMs ?? 10_000;
  const startedMaxMs = opts.startedMaxMs ?? 60_000;
  const maxInFlight = opts.maxInFlight ?? Number.POSITIVE_INFINITY;
  let open: Entry<I, O>[] | null = null;
  let inFlight = 0;
  /** Leaders waiting for a running batch to finish; each finishing batch wakes them all. */
  let slotFreed: { promise: Promise<void>; wake: () => void } | null = null;

  /** Waits until `signal` settles or a timer of the caller's own fires (it keeps the request alive). */
  const waitOwn = async (signal: Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FOLLOW_TICK_MS);
    });
    try {
      await Promise.race([signal, tick]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  const runBatch = async (all: Entry<I, O>[]) => {
    const entries = all.filter((e) => !e.withdrawn);
    for (const e of entries) e.started = true;
    if (entries.length === 0) return;
    let outcomes: Settled<O>[];
    try {
      outcomes = await opts.run(entries.map((e) => e.item));
    } catch (error) {
      outcomes = entries.map(() => ({ ok: false, error }));
    }
    entries.forEach((e, i) => {
      e.outcome = outcomes[i] ?? { ok: false, error: new Error("batch returned no outcome for an item") };
      e.wake();
    });
  };

  const unwrap = (entry: Entry<I, O>): O => {
    const outcome = entry.outcome;
    if (!outcome) throw new LeaderLostError("batch did not settle");
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  };

  const follow = async (entry: Entry<I, O>): Promise<O> => {
    const deadline = Date.now() + followMaxMs;
    while (!entry.outcome) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FOLLOW_TICK_MS);
      });
      try {
        await Promise.race([entry.settled, tick]);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
      if (!entry.outcome && !entry.started && Date.now() >= deadline) {
        // Not taken yet: withdrawn, so the late run cannot do what this request then answers
        // as failed (or does again on its own).
        entry.withdrawn = true;
        throw new LeaderLostError(`batch did not start within ${followMaxMs} ms`);
      }
      if (!entry.outcome && entry.started && Date.now() >= deadline + startedMaxMs)
        throw new LeaderLostError(`batch did not settle within ${followMaxMs + startedMaxMs} ms`);
    }
    return unwrap(entry);
  };

  return {
    async submit(item, submitOpts = {}) {
      let wake!: () => void;
      const settled = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const entry: Entry<I, O> = { item, wake, settled };
      if (open) {
        open.push(entry);
        if (open.length >= opts.maxItems) open = null;
        return follow(entry);
      }
      const batch: Entry<I, O>[] = [entry];
      open = opts.maxItems > 1 ? batch : null;
      const flush = (async () => {
        await new Promise((resolve) => setTimeout(resolve, opts.windowMs));
        const deadline = Date.now() + followMaxMs;
        while (inFlight >= maxInFlight && open === batch && Date.now() < deadline) {
          if (!slotFreed) {
            let wake!: () => void;
            const promise = new Promise<void>((resolve) => {
              wake = resolve;
            });
            slotFreed = { promise, wake };
          }
          await waitOwn(slotFreed.promise);
        }
        if (open === batch) open = null;
        inFlight++;
        try {
          await runBatch(batch);
        } finally {
          inFlight--;
          const waiting = slotFreed;
          slotFreed = null;
          waiting?.wake();
        }
      })();
      submitOpts.waitUntil?.(flush);
      await flush;
      return unwrap(entry);
    },
  };
}
