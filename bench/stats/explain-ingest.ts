// Where the clicks consumer's batch statement spends its time: EXPLAIN (ANALYZE) of insertClickBatch
// on a database bench/stats loaded (STATS_BENCH_DB=<url>), batches of 100 clicks from the traffic
// model, RUNS times; prints each Insert node's time (clicks, fraud events, uniques, each rollup),
// planning and execution, as medians.
//
//   STATS_BENCH_DB=$(cat /tmp/bench-10m.url) pnpm exec tsx bench/stats/explain-ingest.ts

import type { ClickEvent } from "@afftrack/core";
import { insertClickBatch } from "@afftrack/db";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { clickBatch } from "./traffic";

const url = process.env.STATS_BENCH_DB;
if (!url) throw new Error("STATS_BENCH_DB=<url of a loaded bench database>");
const RUNS = Number(process.env.RUNS ?? 15);
const pool = new pg.Pool({ connectionString: url, max: 1 });
let captured: { sql: string; parameters: readonly unknown[] } | undefined;
const db = new Kysely<never>({
  dialect: new PostgresDialect({ pool }),
  log: (e) => {
    captured = e.query;
  },
});
const tenant = (await pool.query("SELECT tenant_id FROM offers WHERE id = 'off_b0'")).rows[0]
  .tenant_id as string;
const batch = (): ClickEvent[] => clickBatch(tenant, 100);
const samples = new Map<string, number[]>();
for (let i = 0; i < RUNS; i++) {
  await insertClickBatch(db as never, batch()); // captures the statement
  const q = captured as { sql: string; parameters: readonly unknown[] };
  const fresh = batch();
  const params = [JSON.stringify(fresh), ...q.parameters.slice(1)];
  const plan = await pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql}`, params as unknown[]);
  const root = plan.rows[0]["QUERY PLAN"][0];
  const add = (k: string, v: number) => samples.set(k, [...(samples.get(k) ?? []), v]);
  add("planning", root["Planning Time"]);
  add("execution", root["Execution Time"]);
  const walk = (n: Record<string, unknown>) => {
    if (n["Node Type"] === "ModifyTable")
      add(
        `${n.Operation} ${n["Relation Name"]} (${n["Subplan Name"] ?? ""})`,
        n["Actual Total Time"] as number,
      );
    for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
  };
  walk(root.Plan);
}
for (const [k, v] of samples) {
  v.sort((a, b) => a - b);
  console.log(`${k.padEnd(50)} median ${(v[Math.floor(v.length / 2)] as number).toFixed(2)} ms`);
}
await db.destroy();
