// The signed-link redirect end to end: edge worker in workerd, link records through the Upstash
// gateway on the real Redis, clicks through the queue into the real Postgres.

import { randomBytes } from "node:crypto";
import { signLinkToken } from "@afftrack/core";
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

function visit(
  path: string,
  init: { ua?: string; ip?: string; country?: string; method?: string; host?: string } = {},
) {
  const url = new URL(path, init.host ? `http://${init.host}` : stack.edgeUrl);
  return stack.mf.dispatchFetch(url, {
    method: init.method ?? "GET",
    redirect: "manual",
    headers: { "user-agent": init.ua ?? BROWSER_UA, "cf-connecting-ip": init.ip ?? nextIp() },
    ...(init.country ? { cf: { country: init.country as "US" } } : {}),
  });
}

describe("signed links", () => {
  it("redirects a valid signed link with macros filled and records a valid click", async () => {
    const f = await stack.fixture({
      destinationUrl:
        "https://example.com/landing?click_id={click_id}&country={country}&d={device}&o={os}&b={browser}&s1={sub1}&ts={timestamp}",
    });
    const ip = nextIp();
    const res = await visit(
      `${await signedPath(f)}?sub1=facebook&sub2=banner%201&sub3=mobile&sub4=x&sub5=y`,
      { ip },
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe("https://example.com/landing");
    expect(location.searchParams.get("country")).toBe("US");
    expect(location.searchParams.get("d")).toBe("desktop");
    expect(location.searchParams.get("o")).toBe("Windows");
    expect(location.searchParams.get("b")).toBe("Chrome");
    expect(location.searchParams.get("s1")).toBe("facebook");
    expect(Math.abs(Number(location.searchParams.get("ts")) - Date.now() / 1000)).toBeLessThan(30);
    const row = await clickRow(stack.db, clickIdOf(res.headers.get("location")));
    expect(row).toMatchObject({
      verdict: "valid",
      tracking_code: f.tracking_code,
      offer_id: f.offer_id,
      publisher_id: f.publisher_id,
      country: "US",
      device: "desktop",
      os: "Windows",
      browser: "Chrome",
      sub1: "facebook",
      sub2: "banner 1",
      sub3: "mobile",
      sub4: "x",
      sub5: "y",
      source: "redirect",
    });
    expect(row.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(row)).not.toContain(ip);
  });

  it("serves /api/c/{token} like /c/{token}", async () => {
    const f = await stack.fixture();
    const res = await visit((await signedPath(f)).replace("/c/", "/api/c/"));
    expect(res.status).toBe(302);
    expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe("valid");
  });

  it("redirects a replayed link but records it as replay", async () => {
    const f = await stack.fixture();
    const path = await signedPath(f);
    const first = await visit(path);
    expect((await clickRow(stack.db, clickIdOf(first.headers.get("location")))).verdict).toBe("valid");
    const second = await visit(path);
    expect(second.status).toBe(302);
    const row = await clickRow(stack.db, clickIdOf(second.headers.get("location")));
    expect(row.verdict).toBe("replay");
    const fraud = await waitFor(() =>
      stack.db.selectFrom("fraud_events").selectAll().where("click_id", "=", row.click_id).executeTakeFirst(),
    );
    expect(fraud.kind).toBe("replay");
  });

  it("redirects an expired link, records it as expired and as a fraud event", async () => {
    const f = await stack.fixture({ linkTtlSeconds: 60 });
    const res = await visit(await signedPath(f, { timestamp: Date.now() - 61_000 }));
    expect(res.status).toBe(302);
    const row = await clickRow(stack.db, clickIdOf(res.headers.get("location")));
    expect(row.verdict).toBe("expired");
    const fraud = await waitFor(() =>
      stack.db.selectFrom("fraud_events").selectAll().where("click_id", "=", row.click_id).executeTakeFirst(),
    );
    expect(fraud.kind).toBe("expired");
    // Just inside the TTL is still valid.
    const fresh = await visit(await signedPath(f, { timestamp: Date.now() - 50_000 }));
    expect((await clickRow(stack.db, clickIdOf(fresh.headers.get("location")))).verdict).toBe("valid");
  });

  it("redirects tampered links to the offer's destination only, as invalid_signature", async () => {
    const f = await stack.fixture();
    const token = (await signedPath(f)).slice(3);
    const [code, ts, nonce, sig] = token.split(".") as [string, string, string, string];
    const tampered = [
      `${code}.${Number(ts) + 1}.${nonce}.${sig}`,
      `${code}.${ts}.${nonce}.${sig.replace(/^./, (ch) => (ch === "a" ? "b" : "a"))}`,
      `${code}.${ts}.${nonce}`,
    ];
    for (const t of tampered) {
      const res = await visit(`/c/${t}?url=https://evil.example/&dest=https://evil.example/`);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toMatch(/^https:\/\/example\.com\/landing\?/);
      expect((await clickRow(stack.db, clickIdOf(res.headers.get("location")))).verdict).toBe(
        "invalid_signature",
      );
    }
  });

  it("answers 404 for unknown codes and never redirects anywhere taken from the request", async () => {
    for (const path of [
      `/c/${await signLinkToken({ secret: "x", code: "nosuchcode123" })}`,
      "/c/nosuchcode123",
      "/c/..%2F..%2Fetc",
      "//evil.example/",
      "/c/",
      "/s/zz",
      "/nosuch?redirect=https://evil.example",
    ]) {
      const res = await visit(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("location"), path).toBeNull();
      expect(await res.text()).toContain("not found");
    }
  });

  it("accepts links signed with a secret being rotated out, refuses unknown secrets", async () => {
    const old = randomBytes(20).toString("hex");
    const f = await stack.fixture({ retiringSecrets: [old] });
    const viaOld = await visit(`/c/${await signLinkToken({ secret: old, code: f.tracking_code })}`);
    expect((await clickRow(stack.db, clickIdOf(viaOld.headers.get("location")))).verdict).toBe("valid");
    const viaNew = await visit(await signedPath(f));
    expect((await clickRow(stack.db, clickIdOf(viaNew.headers.get("location")))).verdict).toBe("valid");
    const viaOther = await visit(
      `/c/${await signLinkToken({ secret: "not-a-secret", code: f.tracking_code })}`,
    );
    expect((await clickRow(stack.db, clickIdOf(viaOther.headers.get("location")))).verdict).toBe(
      "invalid_signature",
    );
  });

  it("records a second click of the same visitor on the same code as duplicate", async () => {
    const f = await stack.fixture();
    const ip = nextIp();
    const a = await visit(await signedPath(f), { ip });
    const b = await visit(await signedPath(f), { ip });
    expect((await clickRow(stack.db, clickIdOf(a.headers.get("location")))).verdict).toBe("valid");
    expect((await clickRow(stack.db, clickIdOf(b.headers.get("location")))).verdict).toBe("duplicate");
  });
});

describe("bots, geo and paused offers", () => {
  it("redirects bots and HEAD requests but records them as bot, without burning the nonce", async () => {
    const f = await stack.fixture();
    const path = await signedPath(f);
    const bot = await visit(path, {
      ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    });
    expect(bot.status).toBe(302);
    expect((await clickRow(stack.db, clickIdOf(bot.headers.get("location")))).verdict).toBe("bot");
    const head = await visit(path, { method: "HEAD" });
    expect(head.status).toBe(302);
    expect((await clickRow(stack.db, clickIdOf(head.headers.get("location")))).verdict).toBe("bot");
    // The human who clicks after the link-preview crawler is still counted.
    const human = await visit(path);
    expect((await clickRow(stack.db, clickIdOf(human.headers.get("location")))).verdict).toBe("valid");
  });

  it("sends geo-blocked visitors to the fallback URL and records geo_blocked", async () => {
    const f = await stack.fixture({
      blockedCountries: ["DE"],
      fallbackUrl: "https://example.com/elsewhere?c={click_id}",
    });
    const res = await visit(await signedPath(f), { country: "DE" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.pathname).toBe("/elsewhere");
    const row = await clickRow(stack.db, location.searchParams.get("c")!);
    expect(row).toMatchObject({ verdict: "geo_blocked", country: "DE" });
    const allowed = await visit(await signedPath(f), { country: "FR" });
    expect(new URL(allowed.headers.get("location")!).pathname).toBe("/landing");
  });

  it("shows a 403 page to geo-blocked visitors when the offer has no fallback, and still records them", async () => {
    const f = await stack.fixture({
      allowedCountries: ["US", "CA"],
      destinationUrl: "https://example.com/landing",
    });
    const before = await stack.db
      .selectFrom("clicks")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("offer_id", "=", f.offer_id)
      .executeTakeFirstOrThrow();
    const res = await visit(await signedPath(f), { country: "BR" });
    expect(res.status).toBe(403);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain("not available in your country");
    const row = await waitFor(() =>
      stack.db
        .selectFrom("clicks")
        .selectAll()
        .where("offer_id", "=", f.offer_id)
        .where("verdict", "=", "geo_blocked")
        .executeTakeFirst(),
    );
    expect(row.country).toBe("BR");
    expect(Number(before.n)).toBe(0);
  });

  it("does not count clicks on a paused offer", async () => {
    const f = await stack.fixture({
      status: "paused",
      fallbackUrl: "https://example.com/paused?c={click_id}",
    });
    const res = await visit(await signedPath(f));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.pathname).toBe("/paused");
    expect((await clickRow(stack.db, location.searchParams.get("c")!)).verdict).toBe("paused");
  });
});

describe("short links", () => {
  it("redirects /{short_code} on the short-link host and /s/{short_code} anywhere", async () => {
    const f = await stack.fixture();
    const onShortHost = await visit(`/${f.short_code}?sub1=tiktok`, { host: "afftok.link" });
    expect(onShortHost.status).toBe(302);
    const row = await clickRow(stack.db, clickIdOf(onShortHost.headers.get("location")));
    expect(row).toMatchObject({
      verdict: "valid",
      source: "short",
      sub1: "tiktok",
      tracking_code: f.tracking_code,
    });
    const viaS = await visit(`/s/${f.short_code}`);
    expect(viaS.status).toBe(302);
    const elsewhere = await visit(`/${f.short_code}`);
    expect(elsewhere.status).toBe(404);
  });
});
