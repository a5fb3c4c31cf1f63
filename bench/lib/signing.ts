// Request builders shared by the benchmarks, written with node:crypto exactly as the seed's
// recipes (synchronous, so generating load costs the load generator little).

import { createHmac, randomBytes } from "node:crypto";
import type { Fixture } from "../../packages/devstack/src/fixtures";

/** A fresh signed tracking-link path: `/c/{code}.{ts}.{nonce}.{sig16}`. */
export function signedLinkPath(f: Pick<Fixture, "tracking_code" | "link_secret">): string {
  const ts = Date.now();
  const nonce = randomBytes(16).toString("hex");
  const sig = createHmac("sha256", f.link_secret).update(`${f.tracking_code}.${ts}.${nonce}`).digest("hex");
  return `/c/${f.tracking_code}.${ts}.${nonce}.${sig.slice(0, 16)}`;
}

/** The seed's request signature fields for an API key: timestamp, nonce, signature. */
export function seedSignatureFields(f: Pick<Fixture, "api_key" | "advertiser_id">) {
  const timestamp = Date.now();
  const nonce = randomBytes(16).toString("hex");
  const signature = createHmac("sha256", f.api_key)
    .update(`${f.api_key}|${f.advertiser_id}|${timestamp}|${nonce}`)
    .digest("hex");
  return { timestamp, nonce, signature };
}
