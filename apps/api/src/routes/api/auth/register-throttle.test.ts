// POST /api/auth/register under the production throttle (issue 13 #11): 5 registrations per client
// per hour, a global ceiling across clients, and an email in use refused without saying so.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, uniqueEmail } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack("registerLimit");
});
afterAll(() => stack.close());

function register(ip: string, email = uniqueEmail("reg")) {
  return fetch(`${stack.apiUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip },
    body: JSON.stringify({ network_name: "Throttled", email, password: PASSWORD }),
  });
}

describe("registration throttle", () => {
  it("allows 5 registrations per client per hour, then 429 with Retry-After; a global ceiling stops many clients", async () => {
    const ip = `203.0.113.${10 + Math.floor(Math.random() * 200)}`;
    const statuses = await Promise.all(Array.from({ length: 8 }, () => register(ip).then((r) => r.status)));
    // 5 per client, and the ceiling of 8 is shared with the other test: at most 5 succeed.
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(5);
    const refused = await register(ip);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ success: false, code: "RATE_LIMITED" });
    // Fresh clients hit the global ceiling (8 per hour in this variant).
    const many = await Promise.all(
      Array.from({ length: 10 }, (_, i) => register(`192.0.2.${i + 1}`).then((r) => r.status)),
    );
    expect(many.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(many.every((s) => s === 201 || s === 429 || s === 409)).toBe(true);
  });
});
