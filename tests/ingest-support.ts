// Helpers for the ingestion API tests: seed-signed and v2-signed requests against the shared
// stack's API worker (over HTTP), fresh advertisers with keys, and row lookups.

import { computeSeedSignature, randomBase62, signRequestV2 } from "@afftrack/core";
import { createApiKey, type IssuedApiKey } from "@afftrack/db";
import { expect } from "vitest";
import type { Fixture, FixtureOptions } from "../packages/devstack/src/fixtures";
import { type SharedTestStack, stackFetch } from "./support";

export interface IngestFixture extends Fixture {
  /** A key issued by the API's own service, with a v2 signing secret. */
  key: IssuedApiKey;
}

export async function ingestFixture(
  stack: SharedTestStack,
  opts: FixtureOptions = {},
): Promise<IngestFixture> {
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
  stack: SharedTestStack,
  path: string,
  body: string | Uint8Array,
  opts: PostOptions = {},
): Promise<Response> {
  return stackFetch(new URL(path, stack.apiUrl), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.apiKeyHeader ? { "x-api-key": opts.apiKeyHeader } : {}),
      ...(opts.ip ? { "cf-connecting-ip": opts.ip } : {}),
      ...opts.headers,
    },
    body: body as BodyInit,
    // Always a `cf` object, as workerd gives every real request (country US unless told).
    cf: opts.country ? { country: opts.country } : {},
  });
}

/** POST a seed-signed JSON body. */
export async function postSigned(
  stack: SharedTestStack,
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
  stack: SharedTestStack,
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

export async function conversionRow(stack: SharedTestStack, id: string) {
  return stack.db.selectFrom("conversions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

/** The day's rollup row of an offer and publisher. */
export async function statsRow(stack: SharedTestStack, f: { offer_id: string; publisher_id: string }) {
  return stack.db
    .selectFrom("stats_daily")
    .selectAll()
    .where("offer_id", "=", f.offer_id)
    .where("publisher_id", "=", f.publisher_id)
    .executeTakeFirst();
}

/** Asserts a refusal in the seed's envelope and returns its body. */
export async function expectRefused(res: Response, status: number, code: string): Promise<Envelope> {
  const body = await json(res);
  expect({ status: res.status, body }).toMatchObject({ status, body: { success: false, code } });
  expect(typeof body.error).toBe("string");
  return body;
}

async function countOf(stack: SharedTestStack, table: "conversions" | "clicks", advertiserId: string) {
  const row = await stack.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("advertiser_id", "=", advertiserId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export const conversionCount = (stack: SharedTestStack, advertiserId: string) =>
  countOf(stack, "conversions", advertiserId);
export const clickCount = (stack: SharedTestStack, advertiserId: string) =>
  countOf(stack, "clicks", advertiserId);

/** A seed example body without its placeholder credentials, for postSigned to sign for real. */
export function seedFields<T extends Record<string, unknown>>(
  example: T,
): Omit<T, "api_key" | "advertiser_id" | "timestamp" | "nonce" | "signature"> {
  const { api_key: _k, advertiser_id: _a, timestamp: _t, nonce: _n, signature: _s, ...fields } = example;
  return fields;
}

/**
 * Sends until a request is refused, for at most 2 s: the documented bound within which a revoked
 * key or a paused offer is refused everywhere (the isolate caches hold records for 1 s).
 */
export async function refusedWithin(send: () => Promise<Response>): Promise<Response> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const res = await send();
    if (res.status !== 200 || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
}
