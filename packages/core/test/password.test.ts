import { pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decoyPasswordHash, hashPassword, PASSWORD_ITERATIONS, verifyPassword } from "../src/index";

describe("hashPassword / verifyPassword", () => {
  it("encodes algorithm, iterations, salt and hash, and verifies the right password only", async () => {
    const encoded = await hashPassword("correct horse battery staple");
    const [alg, iter, salt, hash] = encoded.split("$");
    expect(alg).toBe("pbkdf2-sha256");
    expect(Number(iter)).toBeGreaterThanOrEqual(100_000);
    expect(Buffer.from(salt!, "base64")).toHaveLength(16);
    expect(Buffer.from(hash!, "base64")).toHaveLength(32);
    expect(await verifyPassword("correct horse battery staple", encoded)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", encoded)).toBe(false);
    expect(await verifyPassword("", encoded)).toBe(false);
  });

  it("is PBKDF2-HMAC-SHA256 as Node computes it (interoperable with any standard implementation)", async () => {
    const encoded = await hashPassword("p@ss wörd");
    const [, iter, salt, hash] = encoded.split("$") as [string, string, string, string];
    const expected = pbkdf2Sync("p@ss wörd", Buffer.from(salt, "base64"), Number(iter), 32, "sha256");
    expect(expected.toString("base64")).toBe(hash);
    expect(Number(iter)).toBe(PASSWORD_ITERATIONS);
  });

  it("uses a fresh salt per hash", async () => {
    const a = await hashPassword("same password");
    const b = await hashPassword("same password");
    expect(a).not.toBe(b);
    expect(a.split("$")[2]).not.toBe(b.split("$")[2]);
  });

  it("refuses malformed or foreign encodings instead of throwing", async () => {
    const good = await hashPassword("pw123456");
    const [, iter, salt, hash] = good.split("$") as [string, string, string, string];
    for (const bad of [
      "",
      "plaintext",
      `bcrypt$${iter}$${salt}$${hash}`,
      `pbkdf2-sha256$0$${salt}$${hash}`,
      `pbkdf2-sha256$999999999$${salt}$${hash}`,
      `pbkdf2-sha256$${iter}$$${hash}`,
      `pbkdf2-sha256$${iter}$%%%$${hash}`,
      `pbkdf2-sha256$${iter}$${salt}`,
    ]) {
      expect(await verifyPassword("pw123456", bad)).toBe(false);
    }
  });

  it("verifies a hash made with fewer iterations (parameters travel with the hash)", async () => {
    const salt = Buffer.from("0123456789abcdef");
    const hash = pbkdf2Sync("legacy-pass", salt, 1000, 32, "sha256");
    const encoded = `pbkdf2-sha256$1000$${salt.toString("base64")}$${hash.toString("base64")}`;
    expect(await verifyPassword("legacy-pass", encoded)).toBe(true);
    expect(await verifyPassword("other-pass", encoded)).toBe(false);
  });

  it("offers a decoy hash that no guessed password matches", async () => {
    const decoy = await decoyPasswordHash();
    expect(decoy.startsWith("pbkdf2-sha256$")).toBe(true);
    expect(await verifyPassword("password", decoy)).toBe(false);
  });
});
