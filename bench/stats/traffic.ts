// The bench's traffic model (bench/stats/run.ts loads it in SQL, its ingest batches and
// explain-ingest.ts draw it here): the same distribution on both paths.

import { type ClickEvent, newClickId, type Verdict } from "@afftrack/core";

export const OFFERS = 300;
export const PUBLISHERS = 300;
export const LINKS = 1500;

/**
 * The traffic model, shared by the bulk load (SQL) and the ingest batches (JS) so both write the
 * same distribution. Real affiliate traffic is heavily skewed: a few links, countries and sub IDs
 * carry most clicks. `zipf(n, u)` = floor(n^u) - 1 for a uniform u in [0, 1) draws a rank in [0, n)
 * with density ∝ 1/(rank + 1) (Zipf, exponent 1): of LINKS = 1,500 links the top one carries 9.5 %
 * of clicks, the top 10 33 %, the top 100 63 %; of 30 countries the first (US) 20 %, the top 3 41 %.
 * Offer = link mod OFFERS, publisher = 7 × link mod PUBLISHERS (so a hot link makes a hot offer and
 * publisher), advertiser = offer mod 20. Devices: mobile 60 %, desktop 35 %, tablet 5 %, the OS
 * follows the device (mobile: Android 70 % / iOS 30 %; desktop: Windows 75 % / macOS 20 % / Linux
 * 5 %; tablet: iOS 60 % / Android 40 %); browsers Chrome 64 %, Safari 20 %, Edge 7 %, Firefox 5 %,
 * Samsung Internet 4 %. sub1: none on 30 % of clicks, else Zipf over 200 values. Visitors: a pool
 * of a third of the clicks (ingest: 50,000), uniform, so a visitor repeats rarely within a day and
 * link (unique ≈ gross). Verdicts: 85 % valid, 5 % duplicate, 3 % bot, 3 % expired, 2 % replay,
 * 2 % geo_blocked. Timestamps: spread evenly over DAYS days, generated in time order.
 */
export const COUNTRY_LIST = [
  "US",
  "GB",
  "DE",
  "IN",
  "FR",
  "BR",
  "CA",
  "AU",
  "JP",
  "ES",
  "IT",
  "MX",
  "NL",
  "PL",
  "ID",
  "TR",
  "PH",
  "SE",
  "KR",
  "AR",
  "ZA",
  "NG",
  "VN",
  "TH",
  "EG",
  "CO",
  "PK",
  "BD",
  "NP",
  "KE",
];
const BROWSERS: [string, number][] = [
  ["Chrome", 0.64],
  ["Safari", 0.84],
  ["Edge", 0.91],
  ["Firefox", 0.96],
  ["Samsung Internet", 1],
];

export function zipf(n: number, u: number): number {
  return Math.min(n - 1, Math.floor(n ** u) - 1);
}

/** One click's attributes drawn from the traffic model (the ingest batches). */
export function drawClick(visitors: number) {
  const l = zipf(LINKS, Math.random());
  const offer = l % OFFERS;
  const d = Math.random();
  const device = d < 0.6 ? "mobile" : d < 0.95 ? "desktop" : "tablet";
  const o = Math.random();
  const os =
    device === "mobile"
      ? o < 0.7
        ? "Android"
        : "iOS"
      : device === "desktop"
        ? o < 0.75
          ? "Windows"
          : o < 0.95
            ? "macOS"
            : "Linux"
        : o < 0.6
          ? "iOS"
          : "Android";
  const b = Math.random();
  const v = Math.random();
  return {
    link: l,
    offer_id: `off_b${offer}`,
    publisher_id: `pub_b${(l * 7) % PUBLISHERS}`,
    advertiser_id: `adv_b${offer % 20}`,
    country: COUNTRY_LIST[zipf(COUNTRY_LIST.length, Math.random())] as string,
    device,
    os,
    browser: (BROWSERS.find(([, p]) => b < p) ?? ["Chrome", 1])[0],
    sub1: Math.random() < 0.3 ? null : `sub${zipf(200, Math.random())}`,
    ip_hash: `v${Math.floor(Math.random() * visitors)}`,
    verdict: (v < 0.85
      ? "valid"
      : v < 0.9
        ? "duplicate"
        : v < 0.93
          ? "bot"
          : v < 0.96
            ? "expired"
            : v < 0.98
              ? "replay"
              : "geo_blocked") as Verdict,
  };
}

/** A queue batch of `size` redirect clicks of the bench network, drawn from the traffic model. */
export function clickBatch(tenant: string, size: number, visitors = 50_000): ClickEvent[] {
  return Array.from({ length: size }, () => {
    const c = drawClick(visitors);
    return {
      v: 1,
      click_id: newClickId(),
      created_at: Date.now(),
      tenant_id: tenant,
      tracking_code: `bl${c.link}`,
      offer_id: c.offer_id,
      publisher_id: c.publisher_id,
      advertiser_id: c.advertiser_id,
      verdict: c.verdict,
      country: c.country,
      device: c.device,
      os: c.os,
      browser: c.browser,
      ip_hash: c.ip_hash,
      sub1: c.sub1,
      sub2: null,
      sub3: null,
      sub4: null,
      sub5: null,
      referer: null,
      source: "redirect",
    };
  });
}
