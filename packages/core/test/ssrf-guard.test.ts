// The SSRF guard: webhooks and postbacks reach public http(s) destinations only, whatever notation
// the URL hides a private address in; loopback only where the deployment allows it.

import { describe, expect, it } from "vitest";
import { checkDestination, isPublicAddress } from "../src/index";

const refused = (url: string, opts = {}) => {
  const r = checkDestination(url, opts);
  return r.ok ? null : r.problem;
};

describe("checkDestination", () => {
  it("admits public http and https destinations", () => {
    expect(refused("https://hooks.example.com/afftrack")).toBeNull();
    expect(refused("http://93.184.216.34:8080/x")).toBeNull();
    expect(refused("https://[2606:4700:4700::1111]/x")).toBeNull();
  });

  it("refuses other schemes and credentials", () => {
    expect(refused("ftp://example.com/")).toBe("scheme_not_allowed");
    expect(refused("file:///etc/passwd")).toBe("scheme_not_allowed");
    expect(refused("gopher://example.com/")).toBe("scheme_not_allowed");
    expect(refused("https://user:pw@example.com/")).toBe("credentials_not_allowed");
    expect(refused("not a url")).toBe("invalid_url");
  });

  it.each([
    "http://127.0.0.1/",
    "http://127.1.2.3/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/", // CGNAT
    "http://100.127.255.254/",
    "http://169.254.169.254/latest/meta-data/", // cloud metadata
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fd00:ec2::254]/", // AWS metadata over IPv6
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/", // IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/", // mapped 169.254.169.254 in hex
    "http://[::127.0.0.1]/", // IPv4-compatible
    "http://[::ffff:0:a9fe:a9fe]/", // IPv4-translated 169.254.169.254
    "http://[64:ff9b::a00:1]/", // NAT64 of 10.0.0.1
    "http://2130706433/", // decimal 127.0.0.1
    "http://0x7f000001/", // hex
    "http://0177.0.0.1/", // octal
    "http://0x7f.1/", // mixed short form
    "http://017700000001/",
    "http://127.1/",
    "http://3232235777/", // 192.168.1.1
  ])("refuses the private destination %s", (url) => {
    expect(refused(url)).toBe("private_address");
  });

  it("refuses names that only resolve inside a network", () => {
    expect(refused("http://localhost:8080/")).toBe("internal_hostname");
    expect(refused("http://api.localhost/")).toBe("internal_hostname");
    expect(refused("http://metadata.google.internal/")).toBe("internal_hostname");
    expect(refused("http://printer.local/")).toBe("internal_hostname");
    expect(refused("http://intranet/")).toBe("internal_hostname");
  });

  it("admits loopback only when allowed, and nothing else private even then", () => {
    expect(refused("http://127.0.0.1:9999/hook", { allowLoopback: true })).toBeNull();
    expect(refused("http://[::1]:9999/hook", { allowLoopback: true })).toBeNull();
    expect(refused("http://localhost:9999/hook", { allowLoopback: true })).toBeNull();
    expect(refused("http://10.0.0.1/", { allowLoopback: true })).toBe("private_address");
    expect(refused("http://169.254.169.254/", { allowLoopback: true })).toBe("private_address");
  });
});

describe("isPublicAddress", () => {
  it("classifies addresses", () => {
    expect(isPublicAddress("8.8.8.8")).toBe(true);
    expect(isPublicAddress("100.63.255.255")).toBe(true);
    expect(isPublicAddress("100.128.0.0")).toBe(true);
    expect(isPublicAddress("100.64.0.0")).toBe(false);
    expect(isPublicAddress("2001:4860:4860::8888")).toBe(true);
    expect(isPublicAddress("not-an-ip")).toBe(false);
  });
});
