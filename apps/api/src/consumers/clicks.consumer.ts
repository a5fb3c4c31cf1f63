// Queue consumer for `clicks`: validates each message, writes the batch with one statement
// (clicks + fraud events + rollups), acks on commit. Delivery is at-least-once; the click_id
// primary key makes redelivery harmless.

import { type ClickEvent, ClickEventSchema } from "@afftrack/core";
import { insertClickBatch } from "@afftrack/db";
import * as v from "valibot";
import type { ApiEnv } from "../env";
import { openDb } from "../services/db";

export async function consumeClicks(
  batch: MessageBatch<unknown>,
  env: ApiEnv,
  ctx: ExecutionContext,
): Promise<void> {
  const events: ClickEvent[] = [];
  for (const message of batch.messages) {
    const parsed = v.safeParse(ClickEventSchema, message.body);
    if (parsed.success) events.push(parsed.output);
    else {
      // Retrying cannot fix a malformed message; drop it loudly (no body: it may hold sub IDs).
      console.error(
        JSON.stringify({
          msg: "dropping malformed click message",
          id: message.id,
          issue: parsed.issues[0]?.message,
        }),
      );
      message.ack();
    }
  }
  if (events.length === 0) return;
  const handle = openDb(env, 1);
  try {
    const inserted = await insertClickBatch(handle.db, events);
    for (const message of batch.messages) message.ack();
    if (inserted < events.length) {
      console.log(JSON.stringify({ msg: "redelivered clicks skipped", count: events.length - inserted }));
    }
  } catch (err) {
    console.error(
      JSON.stringify({ msg: "click batch failed, will retry", size: events.length, error: String(err) }),
    );
    batch.retryAll({ delaySeconds: Math.min(60, 2 ** Math.min(batch.messages[0]?.attempts ?? 1, 6)) });
  } finally {
    ctx.waitUntil(handle.close());
  }
}
