// CIDR matching for postback allowlists: IPv4, IPv6, mapped addresses and malformed input.

import { describe, expect, it } from "vitest";
import { clientNetworkOf, isIpAllowed, parseCidr, parseIp } from "../src/index";

describe("parseIp", () => {
  it("parses IPv4 and IPv6, compressed and with an IPv4 tail", () => {
    expect(parseIp("192.0.2.1")?.bytes).toEqual(new Uint8Array([192, 0, 2, 1]));
    expect(parseIp("2001:db8::1")?.version).toBe(6);
    expect(parseIp("::")?.bytes).toEqual(new Uint8Array(16));
    expect(parseIp("::1")?.bytes[15]).toBe(1);
    expect(parseIp("64:ff9b::192.0.2.33")?.bytes.slice(12)).toEqual(new Uint8Array([192, 0, 2, 33]));
    expect(parseIp("::ffff:192.0.2.1")).toEqual({ version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
  });

  it("refuses malformed addresses", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.-4",
      "a.b.c.d",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      "fe80::1%eth0",
      "::ffff:1.2.3",
      "1:2:3:4:5:6:7::8:9",
      "gggg::",
      " 1.2.3.4 x",
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe("parseCidr / isIpAllowed", () => {
  it("matches IPv4 ranges at every kind of prefix", () => {
    expect(isIpAllowed("203.0.113.77", ["203.0.113.0/24"])).toBe(true);
    expect(isIpAllowed("203.0.114.1", ["203.0.113.0/24"])).toBe(false);
    expect(isIpAllowed("10.1.2.3", ["10.0.0.0/8"])).toBe(true);
    expect(isIpAllowed("11.0.0.0", ["10.0.0.0/8"])).toBe(false);
    expect(isIpAllowed("172.31.255.255", ["172.16.0.0/12"])).toBe(true);
    expect(isIpAllowed("172.32.0.0", ["172.16.0.0/12"])).toBe(false);
    expect(isIpAllowed("198.51.100.7", ["198.51.100.7"])).toBe(true);
    expect(isIpAllowed("198.51.100.8", ["198.51.100.7/32"])).toBe(false);
    expect(isIpAllowed("8.8.8.8", ["0.0.0.0/0"])).toBe(true);
  });

  it("matches IPv6 ranges, including non-byte-aligned prefixes", () => {
    expect(isIpAllowed("2001:db8:abcd:12::1", ["2001:db8:abcd::/48"])).toBe(true);
    expect(isIpAllowed("2001:db8:abce::1", ["2001:db8:abcd::/48"])).toBe(false);
    expect(isIpAllowed("2001:db8::7", ["2001:db8::/125"])).toBe(true);
    expect(isIpAllowed("2001:db8::8", ["2001:db8::/125"])).toBe(false);
    expect(isIpAllowed("::1", ["::1/128"])).toBe(true);
    expect(isIpAllowed("2001:DB8::1", ["2001:db8::/32"])).toBe(true);
  });

  it("never matches across families, but treats mapped IPv4 as IPv4", () => {
    expect(isIpAllowed("192.0.2.1", ["::/0"])).toBe(false);
    expect(isIpAllowed("2001:db8::1", ["0.0.0.0/0"])).toBe(false);
    expect(isIpAllowed("::ffff:192.0.2.1", ["192.0.2.0/24"])).toBe(true);
    expect(isIpAllowed("192.0.2.1", ["::ffff:192.0.2.0/120"])).toBe(true);
  });

  it("skips malformed ranges and refuses malformed client IPs", () => {
    for (const bad of [
      "10.0.0.0/33",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "10.0.0.0/8/8",
      "::/129",
      "x/8",
      "10.0.0.0/08a",
    ]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
    expect(isIpAllowed("10.0.0.1", ["10.0.0.0/33", "10.0.0.0/8"])).toBe(true);
    expect(isIpAllowed("not-an-ip", ["0.0.0.0/0"])).toBe(false);
    expect(isIpAllowed("", ["0.0.0.0/0"])).toBe(false);
    expect(isIpAllowed("10.0.0.1", [])).toBe(false);
  });
});

describe("clientNetworkOf", () => {
  it("keys IPv4 by address and IPv6 by its /64, whatever the spelling", () => {
    expect(clientNetworkOf("198.51.100.7")).toBe("198.51.100.7");
    expect(clientNetworkOf("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(clientNetworkOf("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(clientNetworkOf("2001:0DB8:0001:0002:ffff:eeee:dddd:cccc")).toBe("2001:db8:1:2::/64");
    expect(clientNetworkOf("2001:db8:1:3::1")).not.toBe(clientNetworkOf("2001:db8:1:2::1"));
    expect(clientNetworkOf("not an ip")).toBe("not an ip");
  });
});
