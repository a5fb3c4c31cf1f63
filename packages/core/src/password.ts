// Password hashing for management-API accounts: PBKDF2-SHA256 through Web Crypto (the only KDF a
// Worker has natively), a random salt per user, encoded with its parameters so they can change.

import { timingSafeEqual, utf8 } from "./crypto";

export const PASSWORD_ALGORITHM = "pbkdf2-sha256";
/** workerd refuses PBKDF2 above 100 000 iterations, so this is both the floor and the ceiling. */
export const PASSWORD_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number, bytes: number) {
  const key = await crypto.subtle.importKey("raw", utf8(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/** `pbkdf2-sha256$100000$<salt base64>$<hash base64>` */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PASSWORD_ITERATIONS, HASH_BYTES);
  return `${PASSWORD_ALGORITHM}$${PASSWORD_ITERATIONS}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** True when `password` matches `encoded`; false for a wrong password or a malformed encoding. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 4) return false;
  const [algorithm, iterText, saltText, hashText] = parts as [string, string, string, string];
  if (algorithm !== PASSWORD_ALGORITHM || !/^\d{1,7}$/.test(iterText)) return false;
  const iterations = Number(iterText);
  if (iterations < 1 || iterations > PASSWORD_ITERATIONS) return false;
  const salt = fromBase64(saltText);
  const expected = fromBase64(hashText);
  if (!salt || !expected || salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, iterations, expected.length);
  return timingSafeEqual(toBase64(actual), toBase64(expected));
}

/**
 * A well-formed hash of a random password. Login verifies against it when the email is unknown,
 * so an unknown account costs the same time as a wrong password and does not reveal itself.
 */
let decoy: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoy ??= hashPassword(crypto.randomUUID());
  return decoy;
}
