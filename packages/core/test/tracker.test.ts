// Pure pieces of the influencer tracker: the postback body (the seed's example as a test vector),
// the viewer hash under a random day key, 15-minute buckets and the widget's sanitised styling.

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  newTrackerDayKey,
  quarterHourOf,
  SEED_TRACKER_REQUEST,
  TRACKER_DAY_KEY_TTL_SECONDS,
  TrackerEventBodySchema,
  trackerDayKeyName,
  trackerViewerHash,
  widgetStyleOf,
} from "../src/index";

describe("the tracker postback body", () => {
  it("takes the seed's example, trimmed", () => {
    const out = v.parse(TrackerEventBodySchema, SEED_TRACKER_REQUEST);
    expect(out).toEqual({ ...SEED_TRACKER_REQUEST, source: "twitch" });
  });

  it("treats blank optional values as absent and normalises codes", () => {
    const out = v.parse(TrackerEventBodySchema, {
      influencer_id: " influ ",
      product: " Product ",
      campaign: "  ",
      country: "fr",
      ip: "",
    });
    expect(out).toEqual({ influencer_id: "influ", product: "product", country: "FR" });
  });
});

describe("the anti-cheat viewer hash", () => {
  const viewer = {
    ip: "132.244.133.122",
    userAgent: SEED_TRACKER_REQUEST.user_agent,
    productId: "prd_1",
    influencerId: "influ_test",
    eventType: "reg",
  };
  const noon = Date.UTC(2026, 0, 15, 12);

  it("depends on the day key and every part, and never shows the IP", async () => {
    const day = newTrackerDayKey();
    const a = await trackerViewerHash(day, viewer);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toContain("132");
    expect(await trackerViewerHash(day, viewer)).toBe(a);
    expect(await trackerViewerHash(newTrackerDayKey(), viewer)).not.toBe(a);
    for (const key of Object.keys(viewer) as (keyof typeof viewer)[]) {
      expect(await trackerViewerHash(day, { ...viewer, [key]: `${viewer[key]}x` })).not.toBe(a);
    }
  });

  it("uses a random day key that nothing derives, named per UTC day", () => {
    const keys = new Set(Array.from({ length: 20 }, () => newTrackerDayKey()));
    expect(keys.size).toBe(20);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(trackerDayKeyName(noon)).toBe("tracker:day-key:2026-01-15");
    expect(trackerDayKeyName(Date.UTC(2026, 0, 16))).toBe("tracker:day-key:2026-01-16");
    // Kept past the end of its day (late requests, clock skew), then forgotten.
    expect(TRACKER_DAY_KEY_TTL_SECONDS).toBeGreaterThan(24 * 3600);
    expect(TRACKER_DAY_KEY_TTL_SECONDS).toBeLessThanOrEqual(26 * 3600);
  });
});

describe("quarterHourOf", () => {
  it("floors to the UTC 15-minute bucket", () => {
    expect(quarterHourOf(Date.UTC(2026, 0, 15, 12, 44, 59, 999)).toISOString()).toBe(
      "2026-01-15T12:30:00.000Z",
    );
    expect(quarterHourOf(Date.UTC(2026, 0, 15, 12, 45)).toISOString()).toBe("2026-01-15T12:45:00.000Z");
  });
});

describe("widgetStyleOf", () => {
  it("keeps well-formed colours, sizes and sound", () => {
    expect(widgetStyleOf({ color: "ff0000", accent: "#0f0", bg: "black", size: "64", sound: "1" })).toEqual({
      color: "#ff0000",
      accent: "#0f0",
      background: "black",
      size: 64,
      sound: true,
    });
  });

  it("falls back to the defaults for anything else (no CSS or HTML can be injected)", () => {
    const hostile = [
      "red;}</style><script>alert(1)</script>",
      "url(javascript:x)",
      "#12345g",
      "rgb(0,0,0)",
      "a".repeat(21),
      "expression(alert(1))",
    ];
    for (const value of hostile) {
      const style = widgetStyleOf({ color: value, accent: value, bg: value, size: value, sound: value });
      expect(style).toEqual({
        color: "#ffffff",
        accent: "#9146ff",
        background: "transparent",
        size: 48,
        sound: false,
      });
    }
    expect(widgetStyleOf({ size: "5" }).size).toBe(48);
    expect(widgetStyleOf({ size: "201" }).size).toBe(48);
  });
});
