// The clicks queue consumer: redelivered messages never double count, malformed clicks are
// dropped without holding back good ones. It needs Miniflare's in-process queue producer, so this
// file starts a stack of its own (the one exception to the run's shared stacks).

import { type ClickEvent, signJwt } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { clickEvent, clickRow, startTestStack, type TestStack, waitFor } from "../../../../tests/support";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

async function countClicks(s: TestStack, offerId: string): Promise<number> {
  const row = await s.db
    .selectFrom("clicks")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("offer_id", "=", offerId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("clicks consumer", () => {
  it("writes a redelivered batch once: no duplicate rows, rollups counted once", async () => {
    const f = await stack.fixture();
    const events = Array.from({ length: 25 }, (_, i) =>
      clickEvent(f, { verdict: i < 20 ? "valid" : "expired" }),
    );
    // The tenant's live feed hears of each click once, however often it is delivered.
    const token = await signJwt(
      { sub: "usr_live", role: "network_admin", tenant_id: f.tenant_id },
      stack.jwtSecret,
      {
        ttlSeconds: 600,
      },
    );
    const feed = new WebSocket(`${stack.apiUrl.replace(/^http/, "ws")}/api/stats/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const announced: string[] = [];
    feed.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; events?: { click_id?: string }[] };
      if (m.type === "events") for (const e of m.events ?? []) if (e.click_id) announced.push(e.click_id);
    });
    await new Promise((resolve, reject) => {
      feed.once("open", resolve);
      feed.once("error", reject);
    });
    const queue = await stack.mf.getQueueProducer<ClickEvent>("CLICKS", stack.apiConfig.name);
    // At-least-once delivery: the same messages three times, once as one batch with itself.
    await queue.sendBatch(events.map((body) => ({ body })));
    await queue.sendBatch([...events, ...events].slice(0, 50).map((body) => ({ body })));
    await waitFor(async () => (await countClicks(stack, f.offer_id)) >= 25, 20_000, "25 clicks");
    await queue.sendBatch(events.map((body) => ({ body })));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await countClicks(stack, f.offer_id)).toBe(25);
    const stats = await stack.db
      .selectFrom("stats_daily")
      .select(["clicks", "valid_clicks", "fraud_clicks"])
      .where("offer_id", "=", f.offer_id)
      .executeTakeFirstOrThrow();
    expect(stats).toEqual({ clicks: 25, valid_clicks: 20, fraud_clicks: 5 });
    const fraud = await stack.db
      .selectFrom("fraud_events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("offer_id", "=", f.offer_id)
      .executeTakeFirstOrThrow();
    expect(Number(fraud.n)).toBe(5);
    await waitFor(async () => announced.length >= 25, 5_000, "25 live clicks");
    feed.close();
    expect(announced.sort()).toEqual(events.map((e) => e.click_id).sort());
  });

  it("drops malformed queue messages without blocking the good ones", async () => {
    const f = await stack.fixture();
    const queue = await stack.mf.getQueueProducer<unknown>("CLICKS", stack.apiConfig.name);
    const good = clickEvent(f);
    await queue.sendBatch([
      { body: { ...good, click_id: "not-a-click-id" } },
      { body: { ...good, verdict: "made_up" } },
      { body: "garbage" },
      { body: good },
    ]);
    const row = await clickRow(stack.db, good.click_id);
    expect(row.verdict).toBe("valid");
    await new Promise((r) => setTimeout(r, 300));
    expect(await countClicks(stack, f.offer_id)).toBe(1);
  });

  it("writes the good clicks of a packed message and drops only its malformed ones", async () => {
    const f = await stack.fixture();
    const queue = await stack.mf.getQueueProducer<unknown>("CLICKS", stack.apiConfig.name);
    const good = [clickEvent(f), clickEvent(f, { sub1: "second" })];
    await queue.send({ v: 1, clicks: [good[0], { ...clickEvent(f), verdict: "made_up" }, good[1]] });
    expect((await clickRow(stack.db, good[1]!.click_id)).sub1).toBe("second");
    await clickRow(stack.db, good[0]!.click_id);
    await new Promise((r) => setTimeout(r, 300));
    expect(await countClicks(stack, f.offer_id)).toBe(2);
  });

  it("drops a click Postgres cannot store (NUL) without holding back the rest of its batch", async () => {
    const f = await stack.fixture();
    const queue = await stack.mf.getQueueProducer<unknown>("CLICKS", stack.apiConfig.name);
    const good = clickEvent(f);
    // Bypasses the edge's own sanitising: a NUL byte Postgres cannot store in text or jsonb.
    await queue.sendBatch([
      { body: { v: 1, clicks: [{ ...clickEvent(f), sub1: "a\u0000b" }] } },
      { body: good },
    ]);
    expect((await clickRow(stack.db, good.click_id)).verdict).toBe("valid");
  });
});
