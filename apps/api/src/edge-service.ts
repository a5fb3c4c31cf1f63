// RPC entrypoint for the edge worker's service binding. Not reachable over HTTP: only a worker
// bound to it can resolve links or write clicks directly.

import { WorkerEntrypoint } from "cloudflare:workers";
import { type ClickEvent, ClickEventSchema, type LinkRecord } from "@afftrack/core";
import { insertClickBatch, loadLinkRecord } from "@afftrack/db";
import * as v from "valibot";
import type { ApiEnv } from "./config";
import { createServices } from "./services/factory";
import { type LinkLookup, refreshLinkRecord } from "./services/link-records";
import { describeError } from "./services/logger";

export class EdgeService extends WorkerEntrypoint<ApiEnv> {
  /** Cache miss at the edge: read Postgres, refill Redis (best effort), return the record. */
  async resolveLink(by: LinkLookup): Promise<LinkRecord | null> {
    const services = createServices(this.env, { log: { rpc: "resolveLink" }, dbConnections: 1 });
    try {
      try {
        return await refreshLinkRecord(services.db(), services.redis, by);
      } catch (err) {
        // Redis may be what failed; still answer from Postgres so the visitor is redirected.
        services.log.warn("link refill failed, serving from postgres", describeError(err));
        return (await loadLinkRecord(services.db(), by))?.record ?? null;
      }
    } finally {
      this.ctx.waitUntil(services.close());
    }
  }

  /** Fallback write path when the queue is unavailable; idempotent like the consumer. */
  async recordClicks(events: ClickEvent[]): Promise<number> {
    const valid = events.flatMap((e) => {
      const parsed = v.safeParse(ClickEventSchema, e);
      return parsed.success ? [parsed.output] : [];
    });
    const services = createServices(this.env, { log: { rpc: "recordClicks" }, dbConnections: 1 });
    try {
      return await insertClickBatch(services.db(), valid);
    } finally {
      this.ctx.waitUntil(services.close());
    }
  }
}
