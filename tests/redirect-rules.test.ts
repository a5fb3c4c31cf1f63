// Issue 13, the edge's rules: offer URLs that cannot break a redirect or hand the host to a visitor
// (#9, #10), short links counted by the offer's policy (#5), clicks counted while Redis was down
// held for review (#6), and dedupe by IP and user agent (#13).

import { insertClickBatch } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFields, conversionRow, ingestFixture, json, postSigned } from "./ingest-support";
import { buildNetwork, call, type Network } from "./management-helpers";
import {
  BROWSER_UA,
  clickEvent,
  clickIdOf,
  clickRow,
  nextIp,
  type SharedTestStack,
  sharedStack,
  signedPath,
  waitFor,
} from "./support";

let stack: SharedTestStack;
let net: Network;

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Edge rules");
});
afterAll(async () => {
  await stack?.close();
});

function visit(path: string, init: { ua?: string; ip?: string } = {}) {
  return stack.mf.dispatchFetch(new URL(path, stack.edgeUrl), {
    redirect: "manual",
    headers: { "user-agent": init.ua ?? BROWSER_UA, "cf-connecting-ip": init.ip ?? nextIp() },
  });
}

/** Rows of a fixture's offer once `n` have arrived. */
async function offerClicks(offerId: string, n: number) {
  return waitFor(
    async () => {
      const rows = await stack.db.selectFrom("clicks").selectAll().where("offer_id", "=", offerId).execute();
      return rows.length >= n ? rows : null;
    },
    20_000,
    `${n} clicks`,
  );
}

const createOffer = (body: Record<string, unknown>) =>
  call(stack, "POST", "/api/offers", {
    token: net.advertiserToken,
    body: { name: "Rules", payout_type: "cpa", payout_amount: 1, currency: "USD", ...body },
  });

describe("offer URLs (#9, #10)", () => {
  it("refuses CR, LF and tabs in destination_url and fallback_url, naming the field", async () => {
    for (const bad of [
      "https://example.com/a\r\nSet-Cookie: x=1",
      "https://example.com/a\nb",
      "https://exa\tmple.com/",
    ]) {
      const dest = await createOffer({ destination_url: bad });
      expect(dest.status, JSON.stringify(bad)).toBe(400);
      expect(dest.body.code).toBe("INVALID_PARAMS");
      expect(dest.body.error).toContain("destination_url");
      const fallback = await createOffer({ destination_url: "https://example.com/", fallback_url: bad });
      expect(fallback.status).toBe(400);
      expect(fallback.body.error).toContain("fallback_url");
      const update = await call(stack, "PATCH", `/api/offers/${net.offer_id}`, {
        token: net.advertiserToken,
        body: { destination_url: bad },
      });
      expect(update.status).toBe(400);
      expect(update.body.error).toContain("destination_url");
    }
  });

  it("refuses macros outside the path, query and fragment", async () => {
    for (const bad of [
      "https://{sub1}/x",
      "https://shop.example{sub1}/p",
      "https://{sub1}.shop.example/p",
      "https://{sub1}@shop.example/p",
      "https://shop.example:{sub1}/p",
    ]) {
      const res = await createOffer({ destination_url: bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.error, bad).toContain("destination_url");
      const fallback = await createOffer({ destination_url: "https://example.com/", fallback_url: bad });
      expect(fallback.status, bad).toBe(400);
    }
  });

  it("stores the normalised URL with its macros intact", async () => {
    const res = await createOffer({
      destination_url: "HTTPS://Shop.Example:443/a b/{sub1}?c={click_id}#{sub2}",
      fallback_url: "https://shop.example",
    });
    expect(res.status).toBe(201);
    expect(res.body.data.destination_url).toBe("https://shop.example/a%20b/{sub1}?c={click_id}#{sub2}");
    expect(res.body.data.fallback_url).toBe("https://shop.example/");
  });

  it("records the click and sends the visitor to the fallback when a stored destination has CR/LF", async () => {
    const f = await stack.fixture({ fallbackUrl: "https://example.com/fallback?click_id={click_id}" });
    // As stored before the check existed.
    await stack.db
      .updateTable("offers")
      .set({ destination_url: "https://example.com/landing\r\n?click_id={click_id}" })
      .where("id", "=", f.offer_id)
      .execute();
    const res = await visit(await signedPath(f));
    expect(res.status).toBe(302);
    const location = res.headers.get("location")!;
    expect(new URL(location).pathname).toBe("/fallback");
    expect((await clickRow(stack.db, clickIdOf(location))).verdict).toBe("valid");

    const g = await stack.fixture({ fallbackUrl: null });
    await stack.db
      .updateTable("offers")
      .set({ destination_url: "https://example.com/landing\r\n?click_id={click_id}" })
      .where("id", "=", g.offer_id)
      .execute();
    const page = await visit(await signedPath(g));
    expect(page.status).toBe(502);
    expect(page.headers.get("location")).toBeNull();
    const [row] = await offerClicks(g.offer_id, 1);
    expect(row?.verdict).toBe("valid");
  });

  it("never redirects to a host a visitor chose through a stored host macro", async () => {
    const f = await stack.fixture({ fallbackUrl: "https://example.com/fallback?click_id={click_id}" });
    await stack.db
      .updateTable("offers")
      .set({ destination_url: "https://shop.example{sub1}/p?click_id={click_id}" })
      .where("id", "=", f.offer_id)
      .execute();
    for (const sub1 of [".evil.example", "@evil.example", "%2F%2Fevil.example", "/../evil.example", ""]) {
      const res = await visit(`${await signedPath(f)}?sub1=${encodeURIComponent(sub1)}`);
      expect(res.status, sub1).toBe(302);
      const location = new URL(res.headers.get("location")!);
      expect(location.origin, sub1).toBe("https://example.com");
      expect(location.pathname).toBe("/fallback");
    }
    const g = await stack.fixture({ fallbackUrl: null });
    await stack.db
      .updateTable("offers")
      .set({ destination_url: "https://{sub1}/x?click_id={click_id}" })
      .where("id", "=", g.offer_id)
      .execute();
    const res = await visit(`${await signedPath(g)}?sub1=evil.example`);
    expect(res.status).toBe(502);
    expect(res.headers.get("location")).toBeNull();
    await offerClicks(g.offer_id, 1);
  });

  it("keeps hostile sub IDs inside the path and query of the offer's own host", async () => {
    const f = await stack.fixture({
      destinationUrl: "https://shop.example/{sub1}?click_id={click_id}&s={sub1}",
    });
    for (const sub1 of [
      "/evil.example",
      "//evil.example",
      "@evil.example",
      "#x",
      "?x",
      "%2F",
      "\\evil.example",
    ]) {
      const res = await visit(`${await signedPath(f)}?sub1=${encodeURIComponent(sub1)}`);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get("location")!);
      expect(location.origin).toBe("https://shop.example");
      expect(location.searchParams.get("s")).toBe(sub1);
    }
  });
});

describe("short links (#5)", () => {
  const setPolicy = (offerId: string, values: Record<string, unknown>) =>
    stack.db.updateTable("offers").set(values).where("id", "=", offerId).execute();

  it("counts one valid click per visitor and link a day by default (count_deduped), even with dedupe off", async () => {
    const f = await stack.fixture();
    await setPolicy(f.offer_id, { dedupe_mode: "off" });
    const ip = nextIp();
    await visit(`/s/${f.short_code}`, { ip });
    await visit(`/s/${f.short_code}`, { ip });
    await visit(`/s/${f.short_code}`, { ip: nextIp() });
    const rows = await offerClicks(f.offer_id, 3);
    expect(rows.map((r) => r.verdict).sort()).toEqual(["duplicate", "valid", "valid"]);
    // Signed links of the same offer follow the offer's own rule (off): both count.
    const signedIp = nextIp();
    const a = await visit(await signedPath(f), { ip: signedIp });
    const b = await visit(await signedPath(f), { ip: signedIp });
    expect((await clickRow(stack.db, clickIdOf(a.headers.get("location")))).verdict).toBe("valid");
    expect((await clickRow(stack.db, clickIdOf(b.headers.get("location")))).verdict).toBe("valid");
  });

  it("count: short-link clicks follow the offer's dedupe like signed links", async () => {
    const f = await stack.fixture();
    await setPolicy(f.offer_id, { short_link_policy: "count", dedupe_mode: "off" });
    const ip = nextIp();
    await visit(`/s/${f.short_code}`, { ip });
    await visit(`/s/${f.short_code}`, { ip });
    const rows = await offerClicks(f.offer_id, 2);
    expect(rows.map((r) => r.verdict)).toEqual(["valid", "valid"]);
  });

  it("do_not_count: short-link clicks redirect but are recorded as not_counted", async () => {
    const f = await stack.fixture();
    await setPolicy(f.offer_id, { short_link_policy: "do_not_count" });
    const res = await visit(`/s/${f.short_code}`);
    expect(res.status).toBe(302);
    expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe("not_counted");
  });

  it("is set through the offers API, defaults to count_deduped, and reaches the link record", async () => {
    const created = await createOffer({ destination_url: "https://example.com/?c={click_id}" });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      short_link_policy: "count_deduped",
      dedupe_mode: "ip_ua",
      dedupe_window_seconds: 86400,
    });
    const updated = await call(stack, "PATCH", `/api/offers/${created.body.data.id}`, {
      token: net.advertiserToken,
      body: { short_link_policy: "do_not_count", dedupe_mode: "ip", dedupe_window_seconds: 3600 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({
      short_link_policy: "do_not_count",
      dedupe_mode: "ip",
      dedupe_window_seconds: 3600,
    });
    for (const body of [
      { short_link_policy: "sometimes" },
      { dedupe_mode: "ua" },
      { dedupe_window_seconds: 10 },
    ]) {
      const bad = await call(stack, "PATCH", `/api/offers/${created.body.data.id}`, {
        token: net.advertiserToken,
        body,
      });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error).toContain(Object.keys(body)[0]);
    }
  });
});

describe("visitor identity for dedupe (#13)", () => {
  const browser = (i: number) =>
    `Mozilla/5.0 (Linux; Android 14; Pixel ${i}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.${i}.0 Mobile Safari/537.36`;

  it("ip_ua (default): 300 browsers behind one IP are 300 valid clicks; the same browser again is duplicate", async () => {
    const f = await stack.fixture();
    const ip = nextIp();
    for (let start = 0; start < 300; start += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, async (_, j) =>
          visit(await signedPath(f), { ip, ua: browser(start + j) }),
        ),
      );
      for (const res of batch) expect(res.status).toBe(302);
    }
    const again = await visit(await signedPath(f), { ip, ua: browser(7) });
    const rows = await offerClicks(f.offer_id, 301);
    const againRow = rows.find((r) => r.click_id === clickIdOf(again.headers.get("location")));
    expect(againRow?.verdict).toBe("duplicate");
    expect(rows.filter((r) => r.verdict === "valid")).toHaveLength(300);
  });

  it("ip: every browser after the first behind one IP is duplicate (the old behaviour)", async () => {
    const f = await stack.fixture();
    await stack.db.updateTable("offers").set({ dedupe_mode: "ip" }).where("id", "=", f.offer_id).execute();
    const ip = nextIp();
    const first = await visit(await signedPath(f), { ip, ua: browser(1) });
    expect((await clickRow(stack.db, clickIdOf(first.headers.get("location")))).verdict).toBe("valid");
    const second = await visit(await signedPath(f), { ip, ua: browser(2) });
    expect((await clickRow(stack.db, clickIdOf(second.headers.get("location")))).verdict).toBe("duplicate");
  });

  it("off: the same visitor twice is valid twice", async () => {
    const f = await stack.fixture();
    await stack.db.updateTable("offers").set({ dedupe_mode: "off" }).where("id", "=", f.offer_id).execute();
    const ip = nextIp();
    const a = await visit(await signedPath(f), { ip });
    const b = await visit(await signedPath(f), { ip });
    expect((await clickRow(stack.db, clickIdOf(a.headers.get("location")))).verdict).toBe("valid");
    expect((await clickRow(stack.db, clickIdOf(b.headers.get("location")))).verdict).toBe("valid");
  });
});

describe("clicks counted while Redis was down (#6)", () => {
  it("are marked unverified", async () => {
    const down = sharedStack("redisDown");
    try {
      const f = await down.fixture();
      const res = await down.mf.dispatchFetch(`${down.edgeUrl}${await signedPath(f)}`, {
        redirect: "manual",
        headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
      });
      expect(res.status).toBe(302);
      const row = await clickRow(down.db, clickIdOf(res.headers.get("location")));
      expect(row).toMatchObject({ verdict: "valid", unverified: true });
    } finally {
      await down.close();
    }
  });

  it("hold an approved conversion on them as pending; a verified click's is approved", async () => {
    const f = await ingestFixture(stack);
    const unverified = clickEvent(f, { unverified: true });
    const verified = clickEvent(f);
    await insertClickBatch(stack.db, [unverified, verified]);
    const held = await postSigned(
      stack,
      "/api/postback",
      f,
      conversionFields(f, { click_id: unverified.click_id }),
    );
    expect(held.status).toBe(200);
    const heldRow = await conversionRow(stack, (await json(held)).data.conversion_id as string);
    expect(heldRow).toMatchObject({ status: "pending", attribution: "click", click_id: unverified.click_id });
    const paid = await postSigned(
      stack,
      "/api/postback",
      f,
      conversionFields(f, { click_id: verified.click_id }),
    );
    const paidRow = await conversionRow(stack, (await json(paid)).data.conversion_id as string);
    expect(paidRow).toMatchObject({ status: "approved", attribution: "click" });
  });
});
