// `pnpm db:retention`: the click retention job (packages/db/src/retention.ts) against DATABASE_URL.
// Run it daily (cron, a CI schedule): it creates the next months' click partitions, drops months
// older than CLICK_RETENTION_MONTHS (default 13) and purges the short-lived analytics rows.
// Rollups are kept: the stats of a dropped month stay as they were.

import { runClickRetention } from "@afftrack/db";
import { nodeDb } from "../fixtures";

const url = process.env.DATABASE_URL;
const months = Number(process.env.CLICK_RETENTION_MONTHS ?? "13");
if (!url || !Number.isInteger(months) || months < 1) {
  console.error("Set DATABASE_URL (and optionally CLICK_RETENTION_MONTHS, a whole number ≥ 1)");
  process.exit(1);
}
const db = nodeDb(url);
try {
  console.log(JSON.stringify(await runClickRetention(db, { retentionMonths: months })));
} finally {
  await db.destroy();
}
