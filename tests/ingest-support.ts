// Helpers for the ingestion API tests: seed-signed and v2-signed requests against the API worker,
// fresh advertisers with keys, and row lookups.

import { computeSeedSignature, randomBase62, signRequestV2 } from "@afftrack/core";
import { createApiKey, type IssuedApiKey } from "../apps/api/src/services/api-keys";
import type { Fixture, FixtureOptions } from "../packages/devstack/src/fixtures";
import type { TestStack } from "./support";

export interface IngestFixture extends Fixture {
  /** A key issued by the API's own service, with a v2 signing secret. */
  key: IssuedApiKey;
}

export async function ingestFixture(stack: TestStack, opts: FixtureOptions = {}): Promise<IngestFixture> {
  const f = await stack.fixture(opts);
  const key = await createApiKey(stack.db, { tenant_id: f.tenant_id, advertiser_id: f.advertiser_id });
  return { ...f, api_key: key.key, api_key_prefix: key.prefix, key };
}

export const nonce = () => randomBase62(32);

/** Adds the seed's timestamp, nonce and signature (and api_key) to a body. */
export async function seedSigned(
  creds: { api_key: string; advertiser_id: string },
  fields: Record<string, unknown>,
  opts: { timestamp?: number; nonce?: string; signWith?: string; includeKey?: boolean } = {},
): Promise<Record<string, unknown>> {
  const timestamp = opts.timestamp ?? Date.now();
  const n = opts.nonce ?? nonce();
  const signature = await computeSeedSignature({
    apiKey: opts.signWith ?? creds.api_key,
    advertiserId: creds.advertiser_id,
    timestamp,
    nonce: n,
  });
  return {
    ...(opts.includeKey === false ? {} : { api_key: creds.api_key }),
    advertiser_id: creds.advertiser_id,
    ...fields,
    timestamp,
    nonce: n,
    signature,
  };
}

export interface PostOptions {
  headers?: Record<string, string>;
  /** Send X-API-Key (default true). */
  apiKeyHeader?: string | false;
  ip?: string;
  country?: string;
}

export async function postRaw(
  stack: TestStack,
  path: string,
  body: string | Uint8Array,
  opts: PostOptions = {},
): Promise<Response> {
  // The API worker itself (dispatchFetch would reach the edge, the stack's entry worker).
  const api = await stack.mf.getWorker(stack.apiConfig.name);
  return api.fetch(new URL(path, stack.apiUrl), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.apiKeyHeader ? { "x-api-key": opts.apiKeyHeader } : {}),
      ...(opts.ip ? { "cf-connecting-ip": opts.ip } : {}),
      ...opts.headers,
    },
    body,
    ...(opts.country ? { cf: { country: opts.country as "US" } } : {}),
  }) as unknown as Promise<Response>;
}

/** POST a seed-signed JSON body. */
export async function postSigned(
  stack: TestStack,
  path: string,
  creds: { api_key: string; advertiser_id: string },
  fields: Record<string, unknown>,
  opts: PostOptions & { timestamp?: number; nonce?: string } = {},
): Promise<Response> {
  const body = await seedSigned(creds, fields, opts);
  return postRaw(stack, path, JSON.stringify(body), {
    ...opts,
    apiKeyHeader: opts.apiKeyHeader === undefined ? creds.api_key : opts.apiKeyHeader,
  });
}

/** POST with v2 headers signed by the key's signing secret (no signature fields in the body). */
export async function postV2(
  stack: TestStack,
  path: string,
  key: { key: string; signing_secret: string },
  body: string,
  opts: PostOptions & { timestamp?: number; nonce?: string; signPath?: string; signBody?: string } = {},
): Promise<Response> {
  const headers = await signRequestV2({
    secret: key.signing_secret,
    method: "POST",
    path: opts.signPath ?? path,
    timestamp: opts.timestamp ?? Date.now(),
    nonce: opts.nonce ?? nonce(),
    body: opts.signBody ?? body,
  });
  return postRaw(stack, path, body, {
    ...opts,
    apiKeyHeader: key.key,
    headers: { ...headers, ...opts.headers },
  });
}

export interface Envelope {
  success: boolean;
  message?: string;
  error?: string;
  code?: string;
  // biome-ignore lint/suspicious/noExplicitAny: response data is asserted field by field in tests
  data?: any;
}

export async function json(res: Response): Promise<Envelope> {
  return (await res.json()) as Envelope;
}

export const conversionFields = (f: { offer_id: string }, extra: Record<string, unknown> = {}) => ({
  offer_id: f.offer_id,
  transaction_id: `txn_${randomBase62(16)}`,
  amount: 29.99,
  currency: "USD",
  status: "approved",
  ...extra,
});
