// The tracker's host forms map onto the path forms; other hosts and paths pass through untouched;
// the tracker and widget hosts serve nothing but their own paths.

import { describe, expect, it } from "vitest";
import { rewriteTrackerHost, trackerHostCustomerOf } from "./tracker-hosts";

const SUFFIX = "streamtools.example.com";
const at = (host: string, path: string, method = "GET") =>
  new Request(`http://127.0.0.1${path}`, { method, headers: { host } });

function routed(host: string, path: string, method = "GET"): Request {
  const r = rewriteTrackerHost(at(host, path, method), SUFFIX);
  if (r instanceof Response) throw new Error(`${host}${path} was refused with ${r.status}`);
  return r;
}

describe("rewriteTrackerHost", () => {
  it("maps api-tracker-{customer}.{suffix}/{key} to /t/{key} and remembers the host's customer", () => {
    const r = routed(`api-tracker-default.${SUFFIX}`, "/tk_abc", "POST");
    expect(new URL(r.url).pathname).toBe("/t/tk_abc");
    expect(r.method).toBe("POST");
    expect(trackerHostCustomerOf(r)).toBe("default");
    expect(trackerHostCustomerOf(at("api.example.com", "/t/tk_abc"))).toBeUndefined();
  });

  it("maps {product}-widget-{customer}.{suffix}/{influencer}/{campaign} to /w/...", () => {
    const host = `product-widget-default.${SUFFIX}:443`;
    expect(new URL(routed(host, "/influ_test/Jan2024_special_event").url).pathname).toBe(
      "/w/default/product/influ_test/Jan2024_special_event",
    );
    expect(new URL(routed(host, "/influ_test/count.json?x=1").url).pathname).toBe(
      "/w/default/product/influ_test/count.json",
    );
    expect(new URL(routed(host, "/influ_test/Jan/ws").url).pathname).toBe(
      "/w/default/product/influ_test/Jan/ws",
    );
  });

  it("leaves other hosts, the tracker host's root and a disabled suffix alone", () => {
    for (const [host, path, suffix] of [
      ["api.example.com", "/tk_abc", SUFFIX],
      ["api.example.com", "/api/tracker/customers", SUFFIX],
      [`api-tracker-default.${SUFFIX}`, "/tk_abc", ""],
      [`api-tracker-default.${SUFFIX}`, "/", SUFFIX],
      [`evil.com/x.${SUFFIX}`, "/tk_abc", SUFFIX],
      [`api-tracker-Bad-Code.${SUFFIX}`, "/tk_abc", SUFFIX],
    ] as const) {
      const req = at(host, path);
      expect(rewriteTrackerHost(req, suffix), `${host}${path}`).toBe(req);
    }
  });

  it("answers 404 in the envelope for anything else on a tracker or widget host", async () => {
    for (const [host, path] of [
      [`api-tracker-default.${SUFFIX}`, "/api/tracker/customers"],
      [`api-tracker-default.${SUFFIX}`, "/t/tk_abc"],
      [`api-tracker-default.${SUFFIX}`, "/api/auth/login"],
      [`api-tracker-default.${SUFFIX}`, "/w/default/product/influ"],
      [`product-widget-default.${SUFFIX}`, "/"],
      [`product-widget-default.${SUFFIX}`, "/api/tracker/customers/x"],
      [`product-widget-default.${SUFFIX}`, "/api/openapi.json/x/y"],
      [`product-widget-default.${SUFFIX}`, "/count.json"],
      [`product-widget-default.${SUFFIX}`, "/ws"],
    ] as const) {
      const r = rewriteTrackerHost(at(host, path, "POST"), SUFFIX);
      expect(r, `${host}${path}`).toBeInstanceOf(Response);
      const res = r as Response;
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ success: false, error: "No such endpoint", code: "NOT_FOUND" });
    }
  });
});
