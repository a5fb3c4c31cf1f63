// What must hold under load and failure: every redirected click lands exactly once, legacy
// links obey their flag, and Redis going away does not stop redirects. (Queue redelivery:
// apps/api/src/consumers/clicks.consumer.test.ts.)

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
  stack = sharedStack();
});
afterAll(async () => {
  await stack?.close();
});

async function countClicks(s: SharedTestStack, offerId: string, verdict?: string): Promise<number> {
  let q = s.db
    .selectFrom("clicks")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("offer_id", "=", offerId);
  if (verdict) q = q.where("verdict", "=", verdict);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

function get(s: SharedTestStack, path: string, ip = nextIp()) {
  return fetch(`${s.edgeUrl}${path}`, {
    redirect: "manual",
    headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": ip },
  });
}

describe("exactly once", () => {
  it("turns 1,000 concurrent valid clicks into exactly 1,000 valid rows", async () => {
    const f = await stack.fixture();
    const paths = await Promise.all(Array.from({ length: 1000 }, () => signedPath(f)));
    const responses = await Promise.all(paths.map((p) => get(stack, p)));
    expect(responses.map((r) => r.status).filter((s) => s !== 302)).toEqual([]);
    const ids = new Set(responses.map((r) => clickIdOf(r.headers.get("location"))));
    expect(ids.size).toBe(1000);
    await waitFor(async () => (await countClicks(stack, f.offer_id)) >= 1000, 60_000, "1000 clicks");
    // Give a late duplicate the chance to show up before counting again.
    await new Promise((r) => setTimeout(r, 500));
    expect(await countClicks(stack, f.offer_id)).toBe(1000);
    expect(await countClicks(stack, f.offer_id, "valid")).toBe(1000);
    const stats = await stack.db
      .selectFrom("stats_daily")
      .select(["clicks", "valid_clicks"])
      .where("offer_id", "=", f.offer_id)
      .executeTakeFirstOrThrow();
    expect(stats).toEqual({ clicks: 1000, valid_clicks: 1000 });
  });
});

describe("isolate cache expiry under load", () => {
  it("answers every concurrent click with a 302 when the cached link record expires", async () => {
    const short = sharedStack("shortLinkCache");
    try {
      const f = await short.fixture();
      expect((await get(short, await signedPath(f))).status).toBe(302);
      for (let round = 0; round < 3; round++) {
        await new Promise((r) => setTimeout(r, 1100));
        const paths = await Promise.all(Array.from({ length: 64 }, () => signedPath(f)));
        const statuses = (await Promise.all(paths.map((p) => get(short, p)))).map((r) => r.status);
        expect(statuses.filter((s) => s !== 302)).toEqual([]);
      }
    } finally {
      await short.close();
    }
  });
});

describe("legacy unsigned links", () => {
  it("are redirected but not counted when ALLOW_LEGACY_TRACKING_CODES is off", async () => {
    const f = await stack.fixture();
    const res = await get(stack, `/c/${f.tracking_code}`);
    expect(res.status).toBe(302);
    expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe(
      "invalid_signature",
    );
  });

  it("are counted as legacy when the flag is on, with geo rules and dedupe still applied", async () => {
    const legacy = sharedStack("legacyLinks");
    try {
      const f = await legacy.fixture({ blockedCountries: ["RU"] });
      const ip = nextIp();
      const first = await get(legacy, `/c/${f.tracking_code}?sub1=email`, ip);
      expect(first.status).toBe(302);
      expect(await clickRow(legacy.db, clickIdOf(first.headers.get("location")))).toMatchObject({
        verdict: "legacy",
        sub1: "email",
      });
      const again = await get(legacy, `/c/${f.tracking_code}`, ip);
      expect((await clickRow(legacy.db, clickIdOf(again.headers.get("location")))).verdict).toBe("duplicate");
      const blocked = await legacy.mf.dispatchFetch(`${legacy.edgeUrl}/c/${f.tracking_code}`, {
        redirect: "manual",
        headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
        cf: { country: "RU" },
      });
      expect(blocked.status).toBe(403);
      // Signed links keep working alongside legacy ones.
      const signed = await get(legacy, await signedPath(f));
      expect((await clickRow(legacy.db, clickIdOf(signed.headers.get("location")))).verdict).toBe("valid");
    } finally {
      await legacy.close();
    }
  });
});

describe("Redis down", () => {
  it("still redirects (link from Postgres over the service binding) and still records the click", async () => {
    // The gateway's backend points at a port where no Redis listens.
    const down = sharedStack("redisDown");
    try {
      const f = await down.fixture();
      const res = await get(down, `${await signedPath(f)}?sub1=outage`);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toMatch(/^https:\/\/example\.com\/landing\?click_id=clk_/);
      const row = await clickRow(down.db, clickIdOf(res.headers.get("location")));
      expect(row).toMatchObject({ verdict: "valid", sub1: "outage" });
      const unknown = await get(down, "/c/doesnotexist42");
      expect(unknown.status).toBe(404);
    } finally {
      await down.close();
    }
  });
});
