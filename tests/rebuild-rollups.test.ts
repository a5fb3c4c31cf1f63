// `pnpm db:rebuild-rollups`: the daily tier and the network totals rebuilt from stats_q equal what
// the writers' own statements produced, whatever those tables held before (rows missing, counters
// off), for every network in its own zone.

import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { insertClickBatch } from "@afftrack/db";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../packages/devstack/src/build-workers";
import { createFixture, nodeDb } from "../packages/devstack/src/fixtures";
import { withTempDatabase } from "../packages/devstack/src/temp-database";
import { clickEvent } from "./support";

describe("pnpm db:rebuild-rollups", () => {
  it("rebuilds stats_day and stats_total exactly as the writers wrote them", async () => {
    await withTempDatabase(async (url) => {
      const db = nodeDb(url);
      try {
        const utc = await createFixture(db);
        const kathmandu = await createFixture(db);
        await db
          .updateTable("tenants")
          .set({ timezone: "Asia/Kathmandu" })
          .where("id", "=", kathmandu.tenant_id)
          .execute();
        const day = Date.UTC(2026, 2, 10, 18, 0); // 23:45 in Kathmandu: its local day turns within the hour
        const clicks = [utc, kathmandu].flatMap((f) =>
          Array.from({ length: 40 }, (_, i) =>
            clickEvent(f, {
              created_at: day + i * 90_000,
              country: i % 3 === 0 ? "DE" : "US",
              verdict: i % 7 === 0 ? "bot" : i % 5 === 0 ? "duplicate" : "valid",
            }),
          ),
        );
        for (let i = 0; i < clicks.length; i += 25) await insertClickBatch(db, clicks.slice(i, i + 25));
        const snapshot = async () => ({
          day: (
            await sql`SELECT * FROM stats_day ORDER BY tenant_id, dim, day, offer_id, publisher_id, country, currency, payout_currency`.execute(
              db,
            )
          ).rows,
          total: (
            await sql`SELECT * FROM stats_total ORDER BY tenant_id, bucket, currency, payout_currency`.execute(
              db,
            )
          ).rows,
        });
        const written = await snapshot();
        expect(written.day.length).toBeGreaterThan(4);
        expect(written.total.length).toBeGreaterThan(4);

        // What an upgrade leaves behind: totals missing, daily counters off.
        await sql`DELETE FROM stats_total WHERE tenant_id = ${utc.tenant_id}`.execute(db);
        await sql`UPDATE stats_day SET clicks = clicks + 5`.execute(db);
        const { stdout } = await promisify(execFile)(
          path.join(repoRoot, "node_modules/.bin/tsx"),
          [path.join(repoRoot, "packages/devstack/src/cli/rebuild-rollups.ts")],
          { env: { ...process.env, DATABASE_URL: url } },
        );
        expect(JSON.parse(stdout)).toEqual({
          day_rows: written.day.length,
          total_rows: written.total.length,
        });
        expect(await snapshot()).toEqual(written);
      } finally {
        await db.destroy();
      }
    });
  });
});
