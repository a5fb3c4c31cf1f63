// Webhook secrets at rest: AES-256-GCM under WEBHOOK_SECRETS_KEY, bound to their endpoint, with a
// key id so a new key can be introduced while older rows still open.

import { describe, expect, it } from "vitest";
import {
  generateSecretKeyEntry,
  generateWebhookSecret,
  openSecret,
  parseSecretKeyring,
  sealSecret,
} from "../src/index";

describe("webhook secrets at rest", () => {
  it("seals under the current key and opens again; the stored text never holds the secret", async () => {
    const ring = await parseSecretKeyring(generateSecretKeyEntry("k1"));
    const secret = generateWebhookSecret();
    const sealed = await sealSecret(ring, "whe_a", secret);
    expect(sealed.key_id).toBe("k1");
    expect(sealed.secret).not.toContain(secret.slice("whsec_".length));
    expect(await openSecret(ring, "whe_a", sealed)).toBe(secret);
    // A fresh IV each time: sealing twice gives two ciphertexts.
    expect((await sealSecret(ring, "whe_a", secret)).secret).not.toBe(sealed.secret);
  });

  it("refuses a ciphertext moved to another endpoint, tampered, or under an unknown key", async () => {
    const ring = await parseSecretKeyring(generateSecretKeyEntry("k1"));
    const sealed = await sealSecret(ring, "whe_a", generateWebhookSecret());
    await expect(openSecret(ring, "whe_b", sealed)).rejects.toThrow();
    const flipped = `${sealed.secret.slice(0, -2)}${sealed.secret.endsWith("A") ? "B" : "A"}${sealed.secret.slice(-1)}`;
    await expect(openSecret(ring, "whe_a", { ...sealed, secret: flipped })).rejects.toThrow();
    const other = await parseSecretKeyring(generateSecretKeyEntry("k9"));
    await expect(openSecret(other, "whe_a", sealed)).rejects.toThrow(/unknown key "k1"/);
    // Same id, different key bytes: does not open either.
    const impostor = await parseSecretKeyring(generateSecretKeyEntry("k1"));
    await expect(openSecret(impostor, "whe_a", sealed)).rejects.toThrow();
  });

  it("rotates: a new first key seals, the older one still opens its rows; plaintext rows read as they are", async () => {
    const k1 = generateSecretKeyEntry("k1");
    const old = await parseSecretKeyring(k1);
    const secret = generateWebhookSecret();
    const sealedOld = await sealSecret(old, "whe_a", secret);
    const rotated = await parseSecretKeyring(`${generateSecretKeyEntry("k2")}, ${k1}`);
    expect(rotated.current).toBe("k2");
    expect(await openSecret(rotated, "whe_a", sealedOld)).toBe(secret);
    expect((await sealSecret(rotated, "whe_a", secret)).key_id).toBe("k2");
    expect(await openSecret(rotated, "whe_a", { key_id: null, secret })).toBe(secret);
  });

  it("refuses malformed key lists without echoing key material", async () => {
    for (const bad of [
      "",
      "nokeyid",
      "k1:c2hvcnQ",
      "bad id!:AAAA",
      `${generateSecretKeyEntry("k1")},${generateSecretKeyEntry("k1")}`,
    ]) {
      await expect(parseSecretKeyring(bad)).rejects.toThrow(/WEBHOOK_SECRETS_KEY/);
    }
    // Standard base64 (openssl rand -base64 32) is accepted as well as base64url.
    const std = `k1:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
    expect((await parseSecretKeyring(std)).current).toBe("k1");
  });
});
