// Offer currencies and IP allowlists are validated by real parsing (issue 13 #12): `ZZZ` is not a
// currency and `":"` is not an address, and both are refused naming the field.

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { CreateOfferBody, CurrencySchema, IpListSchema } from "../src/wire";

describe("IpListSchema", () => {
  it("accepts addresses and ranges of both families", () => {
    const ok = ["203.0.113.10", "203.0.113.0/24", "2001:db8::/32", "::1", "::ffff:192.0.2.1", "0.0.0.0/0"];
    expect(v.safeParse(IpListSchema, ok).success).toBe(true);
  });
  it.each([
    ":",
    "::::",
    "1.2.3",
    "1.2.3.4/33",
    "2001:db8::/129",
    "256.1.1.1",
    "1:2:3:4:5:6:7:8:9",
    "a.b.c.d",
    "",
    "1.2.3.4/",
    "1.2.3.4\u0000",
  ])("refuses %j", (bad) => {
    const r = v.safeParse(IpListSchema, [bad]);
    expect(r.success).toBe(false);
    expect(r.issues?.[0]?.message).toBe("must be an IP address or CIDR range");
  });
});

describe("CurrencySchema", () => {
  it("accepts ISO 4217 codes, upper-cased", () => {
    expect(v.parse(CurrencySchema, "eur")).toBe("EUR");
  });
  it.each(["ZZZ", "XXX", "US", "USDX", "U$D"])("refuses %j", (bad) => {
    expect(v.safeParse(CurrencySchema, bad).success).toBe(false);
  });
  it("is the offer's currency field, named in the error", () => {
    const r = v.safeParse(CreateOfferBody, {
      name: "O",
      destination_url: "https://shop.example/p",
      currency: "ZZZ",
    });
    expect(r.success).toBe(false);
    expect(r.issues?.map((i) => v.getDotPath(i))).toContain("currency");
  });
});
