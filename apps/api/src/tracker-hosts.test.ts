// The tracker's host forms map onto the path forms; other hosts and paths pass through untouched.

import { describe, expect, it } from "vitest";
import { rewriteTrackerHost } from "./tracker-hosts";

const SUFFIX = "streamtools.example.com";
const at = (host: string, path: string, method = "GET") =>
  new Request(`http://127.0.0.1${path}`, { method, headers: { host } });

describe("rewriteTrackerHost", () => {
  it("maps api-tracker-{customer}.{suffix}/{key} to /t/{key}", () => {
    const r = rewriteTrackerHost(at(`api-tracker-default.${SUFFIX}`, "/tk_abc", "POST"), SUFFIX);
    expect(new URL(r.url).pathname).toBe("/t/tk_abc");
    expect(r.method).toBe("POST");
  });

  it("maps {product}-widget-{customer}.{suffix}/{influencer}/{campaign} to /w/...", () => {
    const host = `product-widget-default.${SUFFIX}:443`;
    expect(
      new URL(rewriteTrackerHost(at(host, "/influ_test/Jan2024_special_event"), SUFFIX).url).pathname,
    ).toBe("/w/default/product/influ_test/Jan2024_special_event");
    expect(new URL(rewriteTrackerHost(at(host, "/influ_test/count.json?x=1"), SUFFIX).url).pathname).toBe(
      "/w/default/product/influ_test/count.json",
    );
  });

  it("leaves other hosts, the API's own paths and a disabled suffix alone", () => {
    for (const [host, path, suffix] of [
      ["api.example.com", "/tk_abc", SUFFIX],
      [`api-tracker-default.${SUFFIX}`, "/a/b", SUFFIX],
      [`api-tracker-default.${SUFFIX}`, "/tk_abc", ""],
      [`evil.com/x.${SUFFIX}`, "/tk_abc", SUFFIX],
      [`api-tracker-Bad-Code.${SUFFIX}`, "/tk_abc", SUFFIX],
      [`product-widget-default.${SUFFIX}`, "/", SUFFIX],
    ] as const) {
      const req = at(host, path);
      expect(rewriteTrackerHost(req, suffix), `${host}${path}`).toBe(req);
    }
  });
});
