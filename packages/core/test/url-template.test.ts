// Destination templates: refused when a macro could choose the host (issue 13 #10) or when they
// hold control characters (#9); filled so that no visitor value ever changes the origin.
import { describe, expect, it } from "vitest";
import { fillUrlTemplate, normaliseUrlTemplate } from "../src/index";

const base = {
  click_id: "clk_1",
  timestamp: 1699876543,
  ip: "203.0.113.45",
  country: "US",
  device: "mobile",
  os: "iOS",
  browser: "Safari",
};

const HOSTILE_VALUES = [
  "evil.example",
  ".evil.example",
  "/evil.example",
  "//evil.example",
  "@evil.example",
  "x@evil.example",
  "#@evil.example",
  "?@evil.example",
  "%2F%2Fevil.example",
  "\\\\evil.example",
  "\\evil.example",
  ":8080",
  "evil.example:443",
  "\r\nLocation: https://evil.example",
  "\tevil.example",
  "javascript:alert(1)",
];

describe("normaliseUrlTemplate", () => {
  it("refuses macros in the scheme, user info, host or port", () => {
    for (const t of [
      "https://{sub1}/x",
      "https://shop.example{sub1}/p",
      "https://{sub1}.shop.example/p",
      "https://shop.example{sub1}",
      "https://{sub1}@shop.example/p",
      "https://u:{sub1}@shop.example/p",
      "https://shop.example:{sub1}/p",
      "{sub1}://shop.example/p",
      "https://SHOP.example{SUB1}/p".replace("SUB1", "sub1"),
      "https://{unknown}.shop.example/",
    ]) {
      const r = normaliseUrlTemplate(t);
      expect(r.ok, t).toBe(false);
    }
    expect(normaliseUrlTemplate("https://{sub1}/x")).toEqual({ ok: false, problem: "macro_outside_path" });
  });

  it("refuses tabs, CR, LF and other control characters anywhere", () => {
    for (const t of [
      "https://shop.example/p\r\nSet-Cookie: a=b",
      "https://shop.example/p\nx",
      "https://shop.ex\tample/p",
      "https://shop.example/p?a=\u0000",
      "https://shop.example/p#\u007f",
    ]) {
      expect(normaliseUrlTemplate(t), JSON.stringify(t)).toEqual({
        ok: false,
        problem: "control_characters",
      });
    }
  });

  it("keeps macros in path, query and fragment verbatim and serialises the rest", () => {
    expect(
      normaliseUrlTemplate("HTTPS://Shop.Example:443/a b/{sub1}/p?c={click_id}&s={sub2}#f{sub3}"),
    ).toEqual({ ok: true, url: "https://shop.example/a%20b/{sub1}/p?c={click_id}&s={sub2}#f{sub3}" });
    expect(normaliseUrlTemplate("https://shop.example")).toEqual({ ok: true, url: "https://shop.example/" });
    expect(normaliseUrlTemplate("https://shop.example/{unknown}/zzmacro0x?{click_id}")).toEqual({
      ok: true,
      url: "https://shop.example/{unknown}/zzmacro0x?{click_id}",
    });
  });

  it("refuses what is not an http(s) URL", () => {
    for (const t of [
      "javascript:alert(1)",
      "ftp://shop.example/",
      "/relative",
      "https://",
      "data:text/html,x",
    ]) {
      expect(normaliseUrlTemplate(t).ok, t).toBe(false);
    }
  });
});

describe("fillUrlTemplate", () => {
  it("never lets a filled value change the scheme, host or port", () => {
    for (const template of [
      "https://shop.example/p/{sub1}",
      "https://shop.example/p?x={sub1}",
      "https://shop.example/{sub1}",
      "https://shop.example/p#{sub1}",
      "https://shop.example/p?a=1{sub1}",
    ]) {
      for (const sub1 of HOSTILE_VALUES) {
        const out = fillUrlTemplate(template, { ...base, sub1 });
        expect(out, `${template} ${JSON.stringify(sub1)}`).not.toBeNull();
        const url = new URL(out as string);
        expect(url.origin).toBe("https://shop.example");
        expect(url.username + url.password).toBe("");
        // Only printable ASCII: a valid Location header.
        expect(out).toMatch(/^[\x21-\x7e]+$/);
      }
    }
  });

  it("gives null, never the visitor's host, for a stored template with a macro in the host", () => {
    for (const template of [
      "https://{sub1}/x",
      "https://shop.example{sub1}/p",
      "https://shop.example{sub1}",
      "https://{sub1}@shop.example/",
    ]) {
      for (const sub1 of [...HOSTILE_VALUES, "shop.example", ""]) {
        expect(fillUrlTemplate(template, { ...base, sub1 }), `${template} ${sub1}`).toBeNull();
      }
    }
  });

  it("gives null for a stored template with CR/LF or tabs, and a valid Location otherwise", () => {
    expect(fillUrlTemplate("https://shop.example/p\r\n?c={click_id}", base)).toBeNull();
    expect(fillUrlTemplate("https://shop.example/p\t?c={click_id}", base)).toBeNull();
    expect(
      fillUrlTemplate("https://shop.example/a b?c={click_id}&b={browser}", {
        ...base,
        browser: "Samsung Internet",
      }),
    ).toBe("https://shop.example/a%20b?c=clk_1&b=Samsung%20Internet");
  });
});
