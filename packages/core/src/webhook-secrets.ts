// Webhook and postback signing secrets at rest (issue 10): the delivery worker must compute HMACs,
// so the secrets are stored, but encrypted with AES-256-GCM (WebCrypto) under a deployment key,
// `WEBHOOK_SECRETS_KEY` (a wrangler secret). The key has an id stored beside each ciphertext, so a
// new key can be introduced while rows sealed under the old one still open:
//   WEBHOOK_SECRETS_KEY = "<id>:<base64 of 32 bytes>[,<older id>:<base64>...]"   (first one seals)
// Each ciphertext is bound to its endpoint (additional data), so a sealed secret copied onto
// another endpoint's row does not open.

import { base64UrlDecode, base64UrlEncode, utf8 } from "./crypto";

export interface SecretKeyring {
  /** The id that seals new secrets. */
  current: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

/** A secret as stored: `key_id` null means a plaintext row from before encryption (still read). */
export interface SealedSecret {
  key_id: string | null;
  secret: string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const SEALED_PREFIX = "v1.";

function decodeKeyBytes(text: string): Uint8Array<ArrayBuffer> | null {
  const normal = text.trim().replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return base64UrlDecode(normal);
}

/** Parses the key list; throws with a message naming what is wrong (never the key). */
export async function parseSecretKeyring(text: string): Promise<SecretKeyring> {
  const entries = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (entries.length === 0) throw new Error("WEBHOOK_SECRETS_KEY is not set");
  const keys = new Map<string, CryptoKey>();
  for (const entry of entries) {
    const at = entry.indexOf(":");
    const id = at > 0 ? entry.slice(0, at) : "";
    if (!KEY_ID.test(id)) throw new Error("WEBHOOK_SECRETS_KEY: each key is <id>:<base64 of 32 bytes>");
    const bytes = decodeKeyBytes(entry.slice(at + 1)) ?? new Uint8Array(0);
    if (bytes.length !== 32) throw new Error(`WEBHOOK_SECRETS_KEY: key "${id}" is not 32 bytes`);
    if (keys.has(id)) throw new Error(`WEBHOOK_SECRETS_KEY: key id "${id}" appears twice`);
    keys.set(id, await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  return { current: entries[0]!.slice(0, entries[0]!.indexOf(":")), keys };
}

const aad = (endpointId: string) => utf8(`afftrack:webhook-secret:${endpointId}`);

/** Encrypts a secret for the endpoint under the current key. */
export async function sealSecret(
  ring: SecretKeyring,
  endpointId: string,
  secret: string,
): Promise<SealedSecret> {
  const key = ring.keys.get(ring.current) as CryptoKey;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(endpointId) },
    key,
    utf8(secret),
  );
  return { key_id: ring.current, secret: `${SEALED_PREFIX}${base64UrlEncode(iv)}.${base64UrlEncode(ct)}` };
}

/**
 * The secret in clear. A plaintext row (key_id null) is returned as it is. Throws when the row's
 * key is not in the keyring or the ciphertext does not open (tampered, or another endpoint's).
 */
export async function openSecret(
  ring: SecretKeyring,
  endpointId: string,
  stored: SealedSecret,
): Promise<string> {
  if (stored.key_id === null) return stored.secret;
  const key = ring.keys.get(stored.key_id);
  if (!key) throw new Error(`webhook secret sealed under unknown key "${stored.key_id}"`);
  const [iv, ct] = stored.secret.startsWith(SEALED_PREFIX)
    ? stored.secret.slice(SEALED_PREFIX.length).split(".").map(base64UrlDecode)
    : [null, null];
  if (!iv || !ct) throw new Error("webhook secret: malformed ciphertext");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv, additionalData: aad(endpointId) },
    key,
    ct,
  );
  return new TextDecoder().decode(plain);
}

/** A fresh key entry for WEBHOOK_SECRETS_KEY (the devstack generates one per stack). */
export function generateSecretKeyEntry(id: string): string {
  return `${id}:${base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
}
