// The edge reads Redis replies as plain JSON (no base64 round trip) and reads sub IDs from the raw
// query: text outside ASCII must come through both exactly as before, from the API's record (first
// visit) and from Redis (later visits: no isolate cache in this stack variant).

import { linkKey } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BROWSER_UA,
  clickIdOf,
  clickRow,
  nextIp,
  type SharedTestStack,
  sharedStack,
  signedPath,
  waitFor,
} from "./support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack("noLinkCache");
});
afterAll(() => stack.close());

const visit = (path: string) =>
  stack.mf.dispatchFetch(new URL(path, stack.edgeUrl), {
    redirect: "manual",
    headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
  });

describe("link records and sub IDs outside ASCII", () => {
  it("redirects alike from the API's record and from Redis, and records the sub IDs decoded", async () => {
    const f = await stack.fixture({
      destinationUrl: "https://example.com/café/ünï?click_id={click_id}&s1={sub1}&s2={sub2}",
    });
    const query = "?sub1=caf%C3%A9+cr%C3%A8me&sub2=%E2%9C%93%20ok&sub3=a%2Bb%26c";
    const first = await visit(`${await signedPath(f)}${query}`);
    expect(first.status).toBe(302);
    // The record is in Redis now (the API refilled it); with no isolate cache, the edge reads it there.
    const redis = new Redis({
      url: stack.redisRestUrl,
      token: stack.redisRestToken,
      automaticDeserialization: false,
    });
    await waitFor(() => redis.get<string>(linkKey(f.tracking_code)));
    const second = await visit(`${await signedPath(f)}${query}`);
    expect(second.status).toBe(302);
    for (const res of [first, second]) {
      const location = new URL(res.headers.get("location")!);
      expect(location.pathname).toBe("/caf%C3%A9/%C3%BCn%C3%AF");
      expect(location.searchParams.get("s1")).toBe("café crème");
      expect(location.searchParams.get("s2")).toBe("✓ ok");
      const row = await clickRow(stack.db, clickIdOf(res.headers.get("location")));
      expect(row).toMatchObject({ verdict: "valid", sub1: "café crème", sub2: "✓ ok", sub3: "a+b&c" });
    }
  });
});
