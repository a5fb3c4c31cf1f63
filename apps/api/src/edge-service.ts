// RPC entrypoint for the edge worker's service binding. Not reachable over HTTP: only a worker
// bound to it can resolve links or write clicks directly.

import { WorkerEntrypoint } from "cloudflare:workers";
import { type ClickEvent, ClickEventSchema, type LinkRecord } from "@afftrack/core";
import { insertClickBatch, loadLinkRecord } from "@afftrack/db";
import * as v from "valibot";
import { type ApiEnv, assertApiEnv } from "./env";
import { openDb } from "./services/db";
import { type LinkLookup, refreshLinkRecord } from "./services/link-records";
import { apiRedis } from "./services/redis";

export class EdgeService extends WorkerEntrypoint<ApiEnv> {
  /** Cache miss at the edge: read Postgres, refill Redis (best effort), return the record. */
  async resolveLink(by: LinkLookup): Promise<LinkRecord | null> {
    assertApiEnv(this.env);
    const handle = openDb(this.env, 1);
    try {
      try {
        return await refreshLinkRecord(handle.db, apiRedis(this.env), by);
      } catch (err) {
        // Redis may be what failed; still answer from Postgres so the visitor is redirected.
        console.warn(
          JSON.stringify({ msg: "link refill failed, serving from postgres", error: String(err) }),
        );
        return (await loadLinkRecord(handle.db, by))?.record ?? null;
      }
    } finally {
      this.ctx.waitUntil(handle.close());
    }
  }

  /** Fallback write path when the queue is unavailable; idempotent like the consumer. */
  async recordClicks(events: ClickEvent[]): Promise<number> {
    assertApiEnv(this.env);
    const valid = events.flatMap((e) => {
      const parsed = v.safeParse(ClickEventSchema, e);
      return parsed.success ? [parsed.output] : [];
    });
    const handle = openDb(this.env, 1);
    try {
      return await insertClickBatch(handle.db, valid);
    } finally {
      this.ctx.waitUntil(handle.close());
    }
  }
}
