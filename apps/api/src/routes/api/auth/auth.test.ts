// /api/auth/*: register, log in (with the failed-login lockout), refresh rotation with reuse
// detection, logout and who-am-I, end to end, and how bad input is refused.

import { hashPassword, newId } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNetwork, call, PASSWORD, uniqueEmail } from "../../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("register and login", () => {
  it("registers a network with its first admin and logs in with the same password", async () => {
    const email = uniqueEmail("Owner");
    const reg = await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "Acme Network", email, password: PASSWORD, name: "Owner" },
    });
    expect(reg.status).toBe(201);
    expect(reg.body.success).toBe(true);
    expect(reg.body.data).toMatchObject({
      token_type: "Bearer",
      expires_in: 900,
      user: { email: email.toLowerCase(), role: "network_admin", name: "Owner" },
      network: { name: "Acme Network" },
    });
    const tenantId = reg.body.data.user.tenant_id;
    expect(reg.body.data.network.id).toBe(tenantId);

    const row = await stack.db
      .selectFrom("users")
      .select(["password_hash", "tenant_id", "role"])
      .where("email", "=", email.toLowerCase())
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    expect(row).toMatchObject({ tenant_id: tenantId, role: "network_admin" });

    const login = await call(stack, "POST", "/api/auth/login", {
      body: { email: email.toUpperCase(), password: PASSWORD },
    });
    expect(login.status).toBe(200);
    expect(login.body.data).toMatchObject({
      token_type: "Bearer",
      expires_in: 900,
      user: { tenant_id: tenantId },
    });
    expect(login.body.data.refresh_token).toMatch(/^rt_/);

    const me = await call(stack, "GET", "/api/auth/me", { token: login.body.data.access_token });
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({
      user: { email: email.toLowerCase(), role: "network_admin" },
      network: { id: tenantId, name: "Acme Network" },
    });
  });

  it("logs in a user created with core's hashPassword (the demo's path)", async () => {
    const email = uniqueEmail("demo");
    const tenant = newId("net");
    await stack.db.insertInto("tenants").values({ id: tenant, name: "Demo" }).execute();
    await stack.db
      .insertInto("users")
      .values({
        id: newId("usr"),
        tenant_id: tenant,
        email,
        password_hash: await hashPassword("demo-pass-1"),
        role: "network_admin",
      })
      .execute();
    const login = await call(stack, "POST", "/api/auth/login", { body: { email, password: "demo-pass-1" } });
    expect(login.status).toBe(200);
    expect(login.body.data.user).toMatchObject({ role: "network_admin", tenant_id: tenant });
  });

  it("refuses a wrong password and an unknown email with the same 401", async () => {
    const email = uniqueEmail("wrong");
    await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "N", email, password: PASSWORD },
    });
    const wrong = await call(stack, "POST", "/api/auth/login", {
      body: { email, password: "not-the-password" },
    });
    const unknown = await call(stack, "POST", "/api/auth/login", {
      body: { email: uniqueEmail("nobody"), password: PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ success: false, error: "Invalid email or password", code: "UNAUTHORIZED" });
    expect(unknown.body).toEqual(wrong.body);
  });

  it("locks an email out after repeated failed logins (429), even for the right password", async () => {
    const email = uniqueEmail("brute");
    await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "N", email, password: PASSWORD },
    });
    for (let i = 0; i < 10; i++) {
      expect(
        (await call(stack, "POST", "/api/auth/login", { body: { email, password: `guess-${i}-xx` } })).status,
      ).toBe(401);
    }
    const locked = await call(stack, "POST", "/api/auth/login", { body: { email, password: PASSWORD } });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe("RATE_LIMITED");
    // The guesses came from one client: the real user, elsewhere, is not locked out.
    const elsewhere = await fetch(`${stack.apiUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "198.51.100.77" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(elsewhere.status).toBe(200);
  });

  it("counts a guess before checking it: 100 concurrent wrong passwords check at most 10 (issue 13 #2)", async () => {
    const email = uniqueEmail("race");
    await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "N", email, password: PASSWORD },
    });
    const ip = "198.51.100.91";
    const login = (password: string) =>
      fetch(`${stack.apiUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: JSON.stringify({ email, password }),
      });
    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login(`wrong-${i}-xx`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(90);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    const locked = await login(PASSWORD);
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as { code: string }).code).toBe("RATE_LIMITED");
  });

  it("counts an IPv6 client by its /64: rotating addresses inside it buys no more guesses", async () => {
    const email = uniqueEmail("v6");
    await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "N", email, password: PASSWORD },
    });
    const login = (ip: string, password: string) =>
      fetch(`${stack.apiUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: JSON.stringify({ email, password }),
      }).then((r) => r.status);
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    for (let i = 0; i < 10; i++)
      expect(await login(`${prefix}::${(i + 1).toString(16)}`, `guess-${i}-xx`)).toBe(401);
    expect(await login(`${prefix}:ffff:ffff:ffff:fffe`, PASSWORD)).toBe(429);
    // The next /64 is another subscriber.
    expect(await login(`${prefix.slice(0, -1)}8::1`, PASSWORD)).toBe(200);
  });

  it("answers 409 CONFLICT when the email is taken, and writes nothing", async () => {
    const email = uniqueEmail("dup");
    expect(
      (
        await call(stack, "POST", "/api/auth/register", {
          body: { network_name: "A", email, password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    const secondName = `Second ${newId("net")}`;
    const again = await call(stack, "POST", "/api/auth/register", {
      body: { network_name: secondName, email: email.toUpperCase(), password: PASSWORD },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ success: false, code: "CONFLICT" });
    // The refusal does not say the email exists (issue 13 #11).
    expect(again.body.error).not.toMatch(/exist|already|registered|taken/i);
    // No half-made network is left behind by the refused registration.
    expect(
      await stack.db.selectFrom("tenants").select("id").where("name", "=", secondName).execute(),
    ).toEqual([]);
    const users = await stack.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", email.toLowerCase())
      .execute();
    expect(users).toHaveLength(1);
  });

  it("validates input strictly and names the bad field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ network_name: "N", email: "not-an-email", password: PASSWORD }, "email"],
      [{ network_name: "N", email: uniqueEmail("v"), password: "short" }, "password"],
      [{ network_name: "", email: uniqueEmail("v"), password: PASSWORD }, "network_name"],
      [{ network_name: "N", email: uniqueEmail("v"), password: PASSWORD, role: "network_admin" }, "role"],
      [{ email: uniqueEmail("v"), password: PASSWORD }, "network_name"],
    ];
    for (const [body, field] of cases) {
      const res = await call(stack, "POST", "/api/auth/register", { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.code).toBe("INVALID_PARAMS");
      expect(res.body.error).toContain(field);
    }
    const notJson = await call(stack, "POST", "/api/auth/login", { rawBody: "{nope" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe("INVALID_PARAMS");
  });
});

describe("refresh and logout", () => {
  it("rotates the refresh token; replaying a spent one revokes the whole session family", async () => {
    const net = await buildNetwork(stack);
    const first = await call(stack, "POST", "/api/auth/refresh", {
      body: { refresh_token: net.adminRefresh },
    });
    expect(first.status).toBe(200);
    expect(first.body.data.refresh_token).not.toBe(net.adminRefresh);
    expect((await call(stack, "GET", "/api/auth/me", { token: first.body.data.access_token })).status).toBe(
      200,
    );

    // The spent token comes back (stolen copy): refused, and the newer token dies with it.
    const replay = await call(stack, "POST", "/api/auth/refresh", {
      body: { refresh_token: net.adminRefresh },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe("UNAUTHORIZED");
    const afterReplay = await call(stack, "POST", "/api/auth/refresh", {
      body: { refresh_token: first.body.data.refresh_token },
    });
    expect(afterReplay.status).toBe(401);
  });

  it("logout revokes the refresh token", async () => {
    const email = uniqueEmail("out");
    const reg = await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "N", email, password: PASSWORD },
    });
    const refresh = reg.body.data.refresh_token;
    expect((await call(stack, "POST", "/api/auth/logout", { body: { refresh_token: refresh } })).status).toBe(
      200,
    );
    expect(
      (await call(stack, "POST", "/api/auth/refresh", { body: { refresh_token: refresh } })).status,
    ).toBe(401);
  });

  it("refuses an expired refresh token", async () => {
    const email = uniqueEmail("exp");
    const reg = await call(stack, "POST", "/api/auth/register", {
      body: { network_name: "N", email, password: PASSWORD },
    });
    await stack.db
      .updateTable("refresh_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("user_id", "=", reg.body.data.user.id)
      .execute();
    const res = await call(stack, "POST", "/api/auth/refresh", {
      body: { refresh_token: reg.body.data.refresh_token },
    });
    expect(res.status).toBe(401);
  });
});
