// With Redis unreachable, the tracker's rate limits fail closed: the postback and the widget's
// counter and socket are retryable 503s with Retry-After in the seed's envelope, never a silent
// pass, never a 500, and no key is looked up (a made-up key is not told apart from a real one).

import { SEED_TRACKER_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SharedTestStack, sharedStack } from "../../../../../tests/support";
import { tryWidgetSocket } from "../../../../../tests/tracker-helpers";

let redisDown: SharedTestStack;

beforeAll(() => {
  redisDown = sharedStack("redisDown");
});
afterAll(() => redisDown.close());

async function expectRetryable(res: Response) {
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await res.json()).toMatchObject({ success: false, code: "SERVICE_UNAVAILABLE" });
}

describe("Redis unreachable", () => {
  it("answers a tracker postback with 503 and Retry-After", async () => {
    const res = await fetch(`${redisDown.apiUrl}/t/tk_${"y".repeat(40)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(SEED_TRACKER_REQUEST),
    });
    await expectRetryable(res);
  });

  it("answers the widget counter and socket with 503 and Retry-After", async () => {
    await expectRetryable(await fetch(`${redisDown.apiUrl}/w/default/product/influ_test/count.json`));
    const socket = await tryWidgetSocket(redisDown, "/w/default/product/influ_test");
    expect(socket.status).toBe(503);
    expect(JSON.parse(socket.body)).toMatchObject({ success: false, code: "SERVICE_UNAVAILABLE" });
  });
});
