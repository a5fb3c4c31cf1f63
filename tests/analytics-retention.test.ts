// Retention: clicks live in monthly partitions; dropping an old month's partition removes its raw
// clicks and nothing else (its rollups, the stats of that month, stay exactly as they were), and a
// month whose clicks landed in the DEFAULT partition gets its own partition with them moved in.

import { type ClickEvent, newClickId } from "@afftrack/core";
import {
  dropClickPartitionsBefore,
  ensureClickPartition,
  insertClickBatch,
  listClickPartitions,
  queryStats,
} from "@afftrack/db";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, type Network } from "./management-helpers";
import { clickEvent, type SharedTestStack, sharedStack } from "./support";

let stack: SharedTestStack;
let net: Network;

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Retention");
});
afterAll(() => stack.close());

function click(at: string): ClickEvent {
  const created_at = Date.parse(at);
  return clickEvent(
    { ...net, tracking_code: "code_r" },
    { click_id: newClickId(created_at), created_at, device: null, os: null, browser: null },
  );
}

describe("click retention", () => {
  it("drops an old month's partition and leaves its rollups intact", async () => {
    // 2001-01 is a month no other test writes. Its first clicks land in the DEFAULT partition.
    await insertClickBatch(stack.db, [click("2001-01-10T10:00:00Z"), click("2001-01-31T23:59:00Z")]);
    const inDefault = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM clicks_default WHERE tenant_id = ${net.tenant_id}`.execute(stack.db);
    expect(inDefault.rows[0]?.n).toBe(2);
    expect(await ensureClickPartition(stack.db, new Date("2001-01-15T00:00:00Z"))).toBe(true);
    expect(await ensureClickPartition(stack.db, new Date("2001-01-15T00:00:00Z"))).toBe(false);
    const moved = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM clicks_2001_01 WHERE tenant_id = ${net.tenant_id}`.execute(stack.db);
    expect(moved.rows[0]?.n).toBe(2);
    // A redelivery into the new partition is still caught; a new click of the month is added.
    const again = click("2001-01-20T00:00:00Z");
    await insertClickBatch(stack.db, [again]);
    await insertClickBatch(stack.db, [again]);
    await insertClickBatch(stack.db, [click("2001-02-01T00:00:00Z")]);

    const caller = {
      tenant_id: net.tenant_id,
      role: "network_admin" as const,
      advertiser_id: null,
      publisher_id: null,
    };
    const q = {
      from: "2001-01-01",
      to: "2001-02-28",
      timezone: "UTC",
      group_by: ["month" as const],
      include_bots: false,
    };
    const before = await queryStats(stack.db, caller, q);
    expect(before.rows.map((r) => [r.month, r.clicks])).toEqual([
      ["2001-01", 3],
      ["2001-02", 1],
    ]);

    expect(await dropClickPartitionsBefore(stack.db, new Date("2001-02-01T00:00:00Z"))).toEqual([
      "clicks_2001_01",
    ]);
    expect((await listClickPartitions(stack.db)).map((p) => p.name)).not.toContain("clicks_2001_01");
    const raw = await stack.db
      .selectFrom("clicks")
      .select(["created_at"])
      .where("tenant_id", "=", net.tenant_id)
      .execute();
    expect(raw).toHaveLength(1); // February's click, still in DEFAULT
    expect(await queryStats(stack.db, caller, q)).toEqual(before);
  });
});
