// Wire schemas: the seed's example bodies are accepted, defaults applied, and bad fields named.

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  BatchEventSchema,
  ConversionBodySchema,
  describeIssues,
  parseJsonObject,
  SdkClickBodySchema,
  SEED_CLICK_REQUEST,
  SEED_CONVERSION_REQUEST,
} from "../src/index";

const seedConversion = SEED_CONVERSION_REQUEST;

describe("wire schemas", () => {
  it("accepts the seed's conversion and click examples", () => {
    expect(v.safeParse(ConversionBodySchema, seedConversion).success).toBe(true);
    const click = v.safeParse(SdkClickBodySchema, SEED_CLICK_REQUEST);
    expect(click.success).toBe(true);
  });

  it("defaults currency to USD and status to approved, and upper-cases currency", () => {
    const { currency: _c, status: _s, amount: _a, ...rest } = seedConversion;
    const out = v.parse(ConversionBodySchema, rest);
    expect(out).toMatchObject({ currency: "USD", status: "approved", amount: 0 });
    expect(v.parse(ConversionBodySchema, { ...seedConversion, currency: "eur" }).currency).toBe("EUR");
  });

  it("names the bad field", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...seedConversion, amount: -1 }, '"amount"'],
      [{ ...seedConversion, amount: "29.99" }, '"amount"'],
      [{ ...seedConversion, currency: "XYZ" }, '"currency"'],
      [{ ...seedConversion, currency: "US" }, '"currency"'],
      [{ ...seedConversion, status: "paid" }, '"status"'],
      [{ ...seedConversion, offer_id: "" }, '"offer_id"'],
      [{ ...seedConversion, nonce: "short" }, '"nonce"'],
      [{ ...seedConversion, timestamp: 1.5 }, '"timestamp"'],
      [{ ...seedConversion, custom_params: { a: { nested: true } } }, '"custom_params.a"'],
    ];
    for (const [body, field] of cases) {
      const r = v.safeParse(ConversionBodySchema, body);
      expect(r.success, field).toBe(false);
      if (!r.success) expect(describeIssues(r.issues)).toContain(field);
    }
    const { transaction_id: _t, ...noTxn } = seedConversion;
    const r = v.safeParse(ConversionBodySchema, noTxn);
    expect(r.success).toBe(false);
    if (!r.success) expect(describeIssues(r.issues)).toBe('Missing parameter "transaction_id"');
  });

  it("tells batch events apart by type", () => {
    expect(
      v.safeParse(BatchEventSchema, { type: "click", offer_id: "o", tracking_code: "abc123" }).success,
    ).toBe(true);
    expect(v.safeParse(BatchEventSchema, { type: "refund", offer_id: "o" }).success).toBe(false);
  });
});

describe("parseJsonObject", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it("accepts objects and refuses everything else without throwing", () => {
    expect(parseJsonObject(enc('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
    for (const bad of [
      "",
      " ",
      "{",
      "[]",
      "null",
      "1",
      '"x"',
      "{'a':1}",
      '{"a":1}}',
      '{"a":"\\u0000"}',
      '{"\\ud800":1}',
    ]) {
      expect(parseJsonObject(enc(bad)).ok, bad).toBe(false);
    }
    expect(parseJsonObject(new Uint8Array([0x7b, 0xff, 0x7d])).ok).toBe(false);
    expect(parseJsonObject(enc(`${"[".repeat(20000)}${"]".repeat(20000)}`)).ok).toBe(false);
    expect(parseJsonObject(enc('{"emoji":"\\ud83d\\ude00"}')).ok).toBe(true);
  });
});
