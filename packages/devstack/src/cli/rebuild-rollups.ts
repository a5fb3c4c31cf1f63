// `pnpm db:rebuild-rollups`: rebuilds the daily stats tier and the network totals from the fine
// tier (stats_q) for every network, against DATABASE_URL. An upgrade step: run it once after the
// workers of a release whose migrations reshaped those tables (013, 015) are deployed, so rows the
// previous workers wrote in between are counted there too. Safe beside live traffic (writers wait
// for its commit) and to run again. Prints row counts.

import { rebuildDerivedRollups } from "@afftrack/db";
import { nodeDb } from "../fixtures";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("Set DATABASE_URL");
  process.exit(1);
}
const db = nodeDb(url);
try {
  console.log(JSON.stringify(await rebuildDerivedRollups(db)));
} finally {
  await db.destroy();
}
