import { describe, expect, it } from "vitest";
import { SEND_BATCH_MAX_BYTES, sendBatchesOf } from "../src/queue-batches";

const message = (n: number, bytes: number) => ({ body: { n, pad: "x".repeat(bytes) } });
const size = (group: { body: unknown }[]) =>
  group.reduce((sum, m) => sum + new TextEncoder().encode(JSON.stringify(m.body)).length, 0);

describe("sendBatchesOf", () => {
  it("keeps every group within 100 messages and 256 KB, in order, losing nothing", () => {
    // 10 fraud-sized messages of ~30 KB (one sendBatch of them was 300 KB and failed whole).
    const big = Array.from({ length: 10 }, (_, i) => message(i, 30_000));
    const groups = sendBatchesOf(big);
    expect(groups.length).toBeGreaterThan(1);
    for (const g of groups) expect(size(g)).toBeLessThan(256 * 1024);
    expect(groups.flat().map((m) => m.body.n)).toEqual(big.map((m) => m.body.n));

    const many = Array.from({ length: 250 }, (_, i) => message(i, 10));
    expect(sendBatchesOf(many).map((g) => g.length)).toEqual([100, 100, 50]);
  });

  it("counts bytes, not characters, and still sends a single oversized message alone", () => {
    const wide = Array.from({ length: 4 }, (_, i) => ({ body: { n: i, pad: "é".repeat(40_000) } }));
    for (const g of sendBatchesOf(wide)) expect(size(g)).toBeLessThanOrEqual(SEND_BATCH_MAX_BYTES);
    expect(sendBatchesOf([message(0, 300_000), message(1, 10)]).map((g) => g.length)).toEqual([1, 1]);
    expect(sendBatchesOf([])).toEqual([]);
  });
});
