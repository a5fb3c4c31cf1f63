import { describe, expect, it } from "vitest";
import {
  CLICK_ID_PATTERN,
  classifyUserAgent,
  fillMacros,
  hashIp,
  isCountryBlocked,
  newClickId,
  readSubIds,
} from "../src/index";

const base = {
  click_id: "clk_1",
  timestamp: 1699876543,
  ip: "203.0.113.45",
  country: "US",
  device: "mobile",
  os: "iOS",
  browser: "Safari",
};

describe("macros", () => {
  it("fills every seed macro, URL-encoded", () => {
    const url = fillMacros(
      "https://example.com/l?c={click_id}&t={timestamp}&ip={ip}&cc={country}&d={device}&o={os}&b={browser}&s={sub1}",
      { ...base, browser: "Samsung Internet", sub1: "a&b=c" },
    );
    expect(url).toBe(
      "https://example.com/l?c=clk_1&t=1699876543&ip=203.0.113.45&cc=US&d=mobile&o=iOS&b=Samsung%20Internet&s=a%26b%3Dc",
    );
  });

  it("leaves unknown braces alone and empties missing sub IDs", () => {
    expect(fillMacros("https://x.test/{unknown}/{sub2}", base)).toBe("https://x.test/{unknown}/");
  });
});

describe("user agents", () => {
  it("classifies common browsers", () => {
    const iphone = classifyUserAgent(
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    );
    expect(iphone).toEqual({ device: "mobile", os: "iOS", browser: "Safari", bot: false });
    const win = classifyUserAgent(
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    );
    expect(win).toEqual({ device: "desktop", os: "Windows", browser: "Edge", bot: false });
    const tab = classifyUserAgent(
      "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    );
    expect(tab.device).toBe("tablet");
  });

  it("flags bots and empty agents", () => {
    expect(classifyUserAgent("Googlebot/2.1 (+http://www.google.com/bot.html)").bot).toBe(true);
    expect(classifyUserAgent("curl/8.4.0").bot).toBe(true);
    expect(classifyUserAgent("").bot).toBe(true);
  });
});

describe("ip hashing and ids", () => {
  it("hashes the same IP the same within a day and differently across days and secrets", async () => {
    const day1 = Date.UTC(2026, 10, 21, 1);
    const a = await hashIp("k", "203.0.113.45", day1);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await hashIp("k", "203.0.113.45", day1 + 3_600_000)).toBe(a);
    expect(await hashIp("k", "203.0.113.45", day1 + 86_400_000)).not.toBe(a);
    expect(await hashIp("k2", "203.0.113.45", day1)).not.toBe(a);
    expect(a).not.toContain("203");
  });

  it("makes unique, well-formed click ids", () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newClickId()));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(CLICK_ID_PATTERN);
  });

  it("applies geo rules", () => {
    expect(isCountryBlocked({ allowed_countries: [], blocked_countries: ["RU"] }, "RU")).toBe(true);
    expect(isCountryBlocked({ allowed_countries: [], blocked_countries: ["RU"] }, "US")).toBe(false);
    expect(isCountryBlocked({ allowed_countries: ["US", "CA"], blocked_countries: [] }, "de")).toBe(true);
    expect(isCountryBlocked({ allowed_countries: ["US"], blocked_countries: [] }, null)).toBe(true);
    expect(isCountryBlocked({ allowed_countries: [], blocked_countries: [] }, null)).toBe(false);
  });
});

describe("sub IDs", () => {
  it("strips what Postgres cannot store (NUL, lone surrogates) and trims to 255 characters", () => {
    const params = new URLSearchParams();
    params.set("sub1", "a\u0000b");
    // (URLSearchParams itself turns a lone surrogate into U+FFFD, which Postgres stores fine.)
    params.set("sub3", "\u0000");
    params.set("sub4", `${"y".repeat(254)}😀`);
    const subs = readSubIds(params);
    expect(subs).toMatchObject({ sub1: "ab", sub2: null, sub3: null, sub5: null });
    expect(subs.sub4).toBe("y".repeat(254));
  });
});
