// Unattributed conversions of concurrent requests (postbacks and SDK conversions without a paid
// click: no slot, no fraud event) are written together by one multi-row statement, so the rollup
// rows they share are upserted once per batch instead of once per conversion, which serialised
// every concurrent insert on the same hot rows. Outcomes stay per conversion:
// - a duplicate transaction_id (in Postgres or earlier in the same batch) is null: that request's
//   409, while exactly one of the duplicates is recorded and answered 200;
// - Postgres unreachable fails every conversion of the batch with the outage (503 each; the one
//   statement wrote nothing);
// - Postgres refusing the statement (one bad row) sends every request back to write its own row
//   alone, with its own I/O, so only the bad row fails.

import {
  type ConversionAttribution,
  type Database,
  insertConversion,
  insertConversions,
  type UncappedConversion,
  writtenConversion,
} from "@afftrack/db";
import type { Kysely } from "kysely";
import { isOutage } from "../errors";
import { createMicroBatcher, LeaderLostError, type Settled } from "./micro-batch";

type Inserted = { id: string; created_at: Date; attribution: ConversionAttribution } | null;

interface Item {
  db: Kysely<Database>;
  row: UncappedConversion;
}

/** The batch statement failed for a reason other than an outage: write this row on its own. */
class WriteAlone extends Error {
  override name = "WriteAlone";
}

/** Conversions written in one statement at most (one JSON parameter; well within Neon's 10 MiB). */
export const CONVERSION_BATCH_MAX = 200;
/** How long the first conversion of a batch waits for others: ms (0: until the next turn). */
export const CONVERSION_BATCH_WINDOW_MS = 1;

const batcher = createMicroBatcher<Item, Inserted>({
  windowMs: CONVERSION_BATCH_WINDOW_MS,
  maxItems: CONVERSION_BATCH_MAX,
  // Every batch upserts the same hot rollup rows: a second one at once would only wait for the
  // first's row locks. One at a time, and the next grows meanwhile.
  maxInFlight: 1,
  async run(items): Promise<Settled<Inserted>[]> {
    const leader = items[0];
    if (!leader) return [];
    try {
      // The leader's own database handle: the statement is the leader's I/O.
      const results = await insertConversions(
        leader.db,
        items.map((i) => i.row),
      );
      return results.map((value) => ({ ok: true, value }));
    } catch (err) {
      if (isOutage(err)) throw err;
      return items.map(() => ({ ok: false, error: new WriteAlone("batch refused", { cause: err }) }));
    }
  },
});

/**
 * Writes an unattributed conversion with its history and rollups, batched with concurrent ones;
 * null when its transaction_id was already recorded (see insertConversions).
 *
 * @example
 * const inserted = await insertConversionBatched(db, row, (p) => c.executionCtx.waitUntil(p));
 */
export async function insertConversionBatched(
  db: Kysely<Database>,
  row: UncappedConversion,
  waitUntil?: (work: Promise<unknown>) => void,
): Promise<Inserted> {
  try {
    return await batcher.submit({ db, row }, { waitUntil });
  } catch (err) {
    // The row alone, through the one-row statement every other path uses; a row the batch did
    // write after all (its leader answered too late) is then found as a duplicate, never twice.
    if (err instanceof WriteAlone) return insertConversion(db, row, { conversionsPerClick: null });
    if (err instanceof LeaderLostError) {
      const alone = await insertConversion(db, row, { conversionsPerClick: null });
      // A duplicate of this very row: the batch wrote it after all (it answered too late). That
      // is this request's conversion (200), not another's transaction (409).
      return alone ?? (await writtenConversion(db, row.id));
    }
    throw err;
  }
}
