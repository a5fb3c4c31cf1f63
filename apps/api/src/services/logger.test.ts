// The structured logger: one JSON line per event with its context, errors with their stack, and
// never a secret, token, key or IP address, whatever the caller passes.

import { describe, expect, it } from "vitest";
import { createLogger } from "./logger";

function capture(level: "debug" | "info" = "info") {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level, sink: (line) => lines.push(JSON.parse(line)) }, { request_id: "req_1" });
  return { log, lines };
}

describe("logger", () => {
  it("writes JSON lines carrying the request context and what the child and set() add", () => {
    const { log, lines } = capture();
    const child = log.child({ route: "/api/postback" });
    child.set({ tenant_id: "net_1" });
    child.info("request", { status: 200, latency_ms: 3 });
    log.debug("hidden below the level");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "request",
      request_id: "req_1",
      route: "/api/postback",
      tenant_id: "net_1",
      status: 200,
      latency_ms: 3,
    });
    expect(typeof lines[0]?.ts).toBe("string");
  });

  it("keeps an error's name, message, code and stack", () => {
    const { log, lines } = capture();
    const err = Object.assign(new TypeError("boom"), { code: "23505" });
    log.error("insert failed", err, { offer_id: "off_1" });
    const logged = lines[0]?.error as Record<string, unknown>;
    expect(logged).toMatchObject({ name: "TypeError", message: "boom", code: "23505" });
    expect(String(logged.stack)).toContain("logger.test.ts");
    expect(lines[0]).toMatchObject({ level: "error", offer_id: "off_1" });
  });

  it("never prints secrets, tokens, API keys, signatures or IP addresses, at any depth", () => {
    const { log, lines } = capture();
    log.info("careless", {
      api_key: "ak_live",
      apiKey: "ak_live2",
      authorization: "Bearer eyJ",
      refresh_token: "rt_x",
      signing_secret: "ss_x",
      password: "hunter22",
      signature: "abc",
      ip: "203.0.113.7",
      client_ip: "203.0.113.8",
      nested: { link_secret: "s", headers: { "x-api-key": "ak_y", cookie: "sid=1" } },
      key_id: "key_1",
      ok: "kept",
    });
    const text = JSON.stringify(lines[0]);
    for (const leaked of ["ak_live", "eyJ", "rt_x", "ss_x", "hunter22", "203.0.113", "ak_y", "sid=1"]) {
      expect(text).not.toContain(leaked);
    }
    expect(lines[0]).toMatchObject({ key_id: "key_1", ok: "kept", ip: "[redacted]" });
  });
});
