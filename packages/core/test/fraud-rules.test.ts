import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  conversionTimeVerdict,
  DATACENTER_ASNS,
  DEFAULT_FRAUD_RULES,
  FraudRulesSchema,
  isDatacenterAsn,
  mergeFraudRules,
  withFraudDefaults,
} from "../src/fraud-rules";

describe("datacenter ASNs", () => {
  it("knows the large clouds and not residential networks or Cloudflare's WARP", () => {
    for (const asn of [16509, 15169, 8075, 14061, 24940, 16276]) expect(isDatacenterAsn(asn)).toBe(true);
    for (const asn of [7922, 3320, 13335, 0]) expect(isDatacenterAsn(asn)).toBe(false);
    expect(isDatacenterAsn("16509")).toBe(false);
    expect(isDatacenterAsn(undefined)).toBe(false);
    expect(isDatacenterAsn(64500, new Set([64500]))).toBe(true);
    expect(DATACENTER_ASNS.size).toBeGreaterThan(40);
  });
});

describe("rules and their defaults", () => {
  it("fills what is absent and keeps an explicit null (off)", () => {
    expect(withFraudDefaults({})).toEqual(DEFAULT_FRAUD_RULES);
    expect(withFraudDefaults(null)).toEqual(DEFAULT_FRAUD_RULES);
    expect(withFraudDefaults({ ip_frequency: null }).ip_frequency).toBeNull();
    expect(mergeFraudRules({ datacenter: "reject" }, { link_frequency: null })).toMatchObject({
      datacenter: "reject",
      link_frequency: null,
    });
  });

  it("refuses unknown rules, bad actions and inverted bounds", () => {
    const ok = (x: unknown) => v.safeParse(FraudRulesSchema, x).success;
    expect(
      ok({ datacenter: "hold", conversion_time: { min_seconds: 5, max_seconds: 60, action: "reject" } }),
    ).toBe(true);
    expect(ok({ datacenter: "drop" })).toBe(false);
    expect(ok({ other: 1 })).toBe(false);
    expect(ok({ conversion_time: { min_seconds: 60, max_seconds: 60, action: "flag" } })).toBe(false);
    expect(ok({ ip_frequency: { max_clicks: 1, window_seconds: 59, action: "flag" } })).toBe(false);
  });
});

describe("click-to-conversion time", () => {
  const rules = { conversion_time: { min_seconds: 10, max_seconds: 3600, action: "hold" as const } };
  it("names the bound crossed, at the boundary exactly", () => {
    expect(conversionTimeVerdict(rules, 9_999)).toEqual({ kind: "conversion_too_fast", action: "hold" });
    expect(conversionTimeVerdict(rules, 10_000)).toBeNull();
    expect(conversionTimeVerdict(rules, 3_600_000)).toBeNull();
    expect(conversionTimeVerdict(rules, 3_600_001)).toEqual({ kind: "conversion_too_slow", action: "hold" });
  });
  it("does nothing when off", () => {
    expect(conversionTimeVerdict({ conversion_time: null }, 0)).toBeNull();
    expect(
      conversionTimeVerdict({ conversion_time: { min_seconds: 10, max_seconds: null, action: "off" } }, 0),
    ).toBeNull();
  });
});
