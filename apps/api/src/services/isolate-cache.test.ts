// The isolate cache: a record is served from memory for its TTL and read again after it, failures
// are never kept, and a full cache drops its oldest entry.

import { describe, expect, it } from "vitest";
import { createIsolateCache } from "./isolate-cache";

describe("isolate cache", () => {
  it("serves a value for its TTL, then loads it again", async () => {
    let now = 1_000;
    let loads = 0;
    const cache = createIsolateCache<string>({ ttlMs: 1000, now: () => now });
    const load = async () => `v${++loads}`;
    expect(await cache.get("k", load)).toBe("v1");
    now += 999;
    expect(await cache.get("k", load)).toBe("v1");
    now += 1;
    expect(await cache.get("k", load)).toBe("v2");
    expect(loads).toBe(2);
  });

  it("keeps no failure, and drops the oldest entry when full", async () => {
    const cache = createIsolateCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    await expect(cache.get("bad", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(cache.size).toBe(0);
    await cache.get("a", async () => "a");
    await cache.get("b", async () => "b");
    await cache.get("c", async () => "c");
    expect(cache.size).toBe(2);
    let reloaded = false;
    await cache.get("a", async () => {
      reloaded = true;
      return "a";
    });
    expect(reloaded).toBe(true);
  });
});
