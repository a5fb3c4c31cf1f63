// Outages are retryable, not errors: with Postgres or Redis unreachable the API answers 503 with
// Retry-After in the seed's envelope (never a 500), and records nothing the client was told failed.

import { signJwt } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedSigned } from "../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../tests/support";

let pgDown: SharedTestStack;
let redisDown: SharedTestStack;
let healthy: SharedTestStack;

beforeAll(() => {
  pgDown = sharedStack("postgresDown");
  redisDown = sharedStack("redisDown");
  healthy = sharedStack();
});
afterAll(async () => {
  await Promise.all([pgDown.close(), redisDown.close(), healthy.close()]);
});

async function expectRetryable(res: Response) {
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await res.json()) as { request_id?: string };
  expect(body).toMatchObject({ success: false, code: "SERVICE_UNAVAILABLE" });
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
}

function post(stack: SharedTestStack, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("Postgres unreachable", () => {
  it("answers a postback with 503 and Retry-After", async () => {
    const creds = { api_key: `ak_${"x".repeat(40)}`, advertiser_id: "adv_outage" };
    const body = await seedSigned(creds, { offer_id: "off_x", transaction_id: "txn_outage", amount: 10 });
    await expectRetryable(await post(pgDown, "/api/postback", body, { "x-api-key": creds.api_key }));
  });

  it("answers management reads and writes with 503 and Retry-After", async () => {
    const token = await signJwt(
      { sub: "usr_x", role: "network_admin", tenant_id: "net_x" },
      pgDown.jwtSecret,
      { ttlSeconds: 300 },
    );
    const auth = { authorization: `Bearer ${token}` };
    await expectRetryable(await fetch(`${pgDown.apiUrl}/api/advertisers`, { headers: auth }));
    await expectRetryable(await post(pgDown, "/api/advertisers", { name: "Acme" }, auth));
  });
});

describe("Redis unreachable", () => {
  it("answers an SDK click with 503 and Retry-After, and writes no click", async () => {
    const f = await healthy.fixture();
    const body = await seedSigned(f, {
      offer_id: f.offer_id,
      tracking_code: f.tracking_code,
      sub_id_1: "outage",
    });
    await expectRetryable(await post(redisDown, "/api/sdk/click", body, { "x-api-key": f.api_key }));
    const rows = await healthy.db
      .selectFrom("clicks")
      .select("click_id")
      .where("offer_id", "=", f.offer_id)
      .execute();
    expect(rows).toEqual([]);
  });
});
