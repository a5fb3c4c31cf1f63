// With Postgres unreachable, the tracker postback and the widget counter are retryable 503s with
// Retry-After in the seed's envelope, never 500s.

import { SEED_TRACKER_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SharedTestStack, sharedStack } from "../../../../../tests/support";

let pgDown: SharedTestStack;

beforeAll(() => {
  pgDown = sharedStack("postgresDown");
});
afterAll(() => pgDown.close());

async function expectRetryable(res: Response) {
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await res.json()).toMatchObject({ success: false, code: "SERVICE_UNAVAILABLE" });
}

describe("Postgres unreachable", () => {
  it("answers a tracker postback with 503 and Retry-After", async () => {
    const res = await fetch(`${pgDown.apiUrl}/t/tk_${"x".repeat(40)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(SEED_TRACKER_REQUEST),
    });
    await expectRetryable(res);
  });

  it("answers the widget page and its counter with 503 and Retry-After", async () => {
    await expectRetryable(await fetch(`${pgDown.apiUrl}/w/default/product/influ_test/count.json`));
    // The page itself stays a page (OBS does not reload one that failed): it waits for the
    // counter to answer, then reloads into the real widget.
    const page = await fetch(`${pgDown.apiUrl}/w/default/product/influ_test`);
    expect(page.status).toBe(503);
    expect(Number(page.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("location.reload()");
    expect(html).toContain("/count.json");
  });
});
