// /api/advertisers and /api/advertisers/{id}: what a network admin and an advertiser user rely on,
// and how bad input is refused (seed envelope, field named, request id).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, type Network } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;
let net: Network;

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Adv");
});
afterAll(() => stack.close());

describe("advertisers", () => {
  it("creates, reads, updates, pages through and deletes advertisers of the network", async () => {
    const created = await call(stack, "POST", "/api/advertisers", {
      token: net.adminToken,
      body: { name: "  Acme Shoes ", postback_ip_allowlist: ["203.0.113.0/24"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      success: true,
      data: { name: "Acme Shoes", status: "active", postback_ip_allowlist: ["203.0.113.0/24"] },
    });
    const id = created.body.data.id as string;
    // A first link-signing secret comes with it.
    const secrets = await stack.db
      .selectFrom("link_secrets")
      .select("id")
      .where("advertiser_id", "=", id)
      .execute();
    expect(secrets).toHaveLength(1);

    const patched = await call(stack, "PATCH", `/api/advertisers/${id}`, {
      token: net.adminToken,
      body: { status: "suspended" },
    });
    expect(patched.body.data).toMatchObject({ id, status: "suspended" });
    expect(
      (await call(stack, "GET", `/api/advertisers/${id}`, { token: net.adminToken })).body.data.status,
    ).toBe("suspended");

    const first = await call(stack, "GET", "/api/advertisers?limit=1", { token: net.adminToken });
    expect(first.body.data.items).toHaveLength(1);
    expect(first.body.data.items[0].id).toBe(id);
    const second = await call(
      stack,
      "GET",
      `/api/advertisers?limit=1&cursor=${first.body.data.next_cursor}`,
      {
        token: net.adminToken,
      },
    );
    expect(second.body.data.items[0].id).toBe(net.advertiser_id);
    expect(second.body.data.next_cursor).toBeNull();

    const deleted = await call(stack, "DELETE", `/api/advertisers/${id}`, { token: net.adminToken });
    expect(deleted.body).toMatchObject({ success: true, data: { id, deleted: true } });
    expect((await call(stack, "GET", `/api/advertisers/${id}`, { token: net.adminToken })).status).toBe(404);
  });

  it("lets an advertiser user read only their own advertiser, and refuses publishers", async () => {
    const own = await call(stack, "GET", `/api/advertisers/${net.advertiser_id}`, {
      token: net.advertiserToken,
    });
    expect(own.status).toBe(200);
    const list = await call(stack, "GET", "/api/advertisers", { token: net.advertiserToken });
    expect(list.status).toBe(403);
    const pub = await call(stack, "GET", `/api/advertisers/${net.advertiser_id}`, {
      token: net.publisherToken,
    });
    expect(pub.body).toMatchObject({ success: false, code: "FORBIDDEN" });
  });

  it("refuses to delete an advertiser with offers (suspend it instead)", async () => {
    const res = await call(stack, "DELETE", `/api/advertisers/${net.advertiser_id}`, {
      token: net.adminToken,
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("CONFLICT");
  });

  it("names the bad field in a 400 with the request id, for bodies, paths and queries alike", async () => {
    const unknown = await call(stack, "POST", "/api/advertisers", {
      token: net.adminToken,
      body: { name: "X", colour: "red" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      success: false,
      code: "INVALID_PARAMS",
      error: 'Unknown parameter "colour"',
    });
    expect(unknown.requestId).toMatch(/^req_/);

    const missing = await call(stack, "POST", "/api/advertisers", { token: net.adminToken, body: {} });
    expect(missing.body.error).toBe('Missing parameter "name"');

    const nulPath = await call(stack, "GET", "/api/advertisers/adv%00x", { token: net.adminToken });
    expect(nulPath.status).toBe(400);
    expect(nulPath.body.code).toBe("INVALID_PARAMS");

    const year0 = Buffer.from(JSON.stringify(["0000-01-01 00:00:00+00", "adv_x"])).toString("base64url");
    const cursor = await call(stack, "GET", `/api/advertisers?cursor=${year0}`, { token: net.adminToken });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error).toContain('"cursor"');

    const limit = await call(stack, "GET", "/api/advertisers?limit=500", { token: net.adminToken });
    expect(limit.status).toBe(400);
    expect(limit.body.error).toContain('"limit"');
  });

  it("answers 415 for a body that is not JSON and echoes a caller's x-request-id", async () => {
    const res = await fetch(`${stack.apiUrl}/api/advertisers`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.adminToken}`, "x-request-id": "trace-1234567890" },
      body: "name=Acme",
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("x-request-id")).toBe("trace-1234567890");
    expect(await res.json()).toMatchObject({
      code: "UNSUPPORTED_MEDIA_TYPE",
      request_id: "trace-1234567890",
    });
  });
});
