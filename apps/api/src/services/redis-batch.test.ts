// The merged Redis transport on its own (no stack): a failed merged pipeline reaches every caller
// as an outage whose message quotes none of the commands (they hold other requests' keys and link
// records with signing secrets, and every caller logs its error).

import type { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { isOutage } from "../errors";
import { batchRedisRequests } from "./redis-batch";

type Transport = { request(req: { path?: string[]; body?: unknown }): Promise<unknown> };

function clientFailingWith(message: string) {
  const seen: unknown[] = [];
  const client: Transport = {
    async request(req) {
      seen.push(req.body);
      throw Object.assign(new Error(`${message}, command was: ${JSON.stringify(req.body)}`), {
        name: "UpstashError",
      });
    },
  };
  const redis = batchRedisRequests({ client } as unknown as Redis) as unknown as { client: Transport };
  return { transport: redis.client, seen };
}

describe("batchRedisRequests", () => {
  it("fails every merged caller as an outage, without the commands in the error", async () => {
    const { transport, seen } = clientFailingWith("Server error (HTTP status 500)");
    const results = await Promise.allSettled([
      transport.request({ path: ["pipeline"], body: [["SET", "link:v2:abc", '{"secrets":["s3cr3t-one"]}']] }),
      transport.request({ body: ["SET", "nonce:tenant-b:n1", "1", "NX"] }),
    ]);
    expect(seen).toHaveLength(1); // one merged request for both callers
    for (const r of results) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason as Error;
      expect(isOutage(err)).toBe(true);
      expect(err.message).toContain("HTTP status 500");
      expect(err.message).not.toContain("s3cr3t");
      expect(err.message).not.toContain("tenant-b");
    }
  });
});
