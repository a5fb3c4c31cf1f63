// Verifies the request's signature and its timestamp (±5 minutes, EXPIRED_REQUEST), with no I/O,
// and names the nonce the guard chain then claims in Redis (once per key, REPLAYED_REQUEST). Two
// schemes: the seed's body fields keyed by the API key, or v2 headers keyed by the key's signing
// secret over method, path, timestamp, nonce and body hash. An advertiser with
// require_strong_signature accepts only v2.

import {
  ApiError,
  checkRequestTime,
  describeIssues,
  parseSignatureV2Header,
  REQUEST_MAX_SKEW_MS,
  REQUEST_NONCE_PATTERN,
  REQUEST_NONCE_TTL_SECONDS,
  SIGNATURE_V2_HEADERS,
  SignedEnvelopeSchema,
  verifySeedSignature,
  verifySignatureV2,
} from "@afftrack/core";
import * as v from "valibot";
import type { AppContext } from "../context";
import type { ApiKeyPrincipal } from "./api-key-auth";
import { jsonBodyOf, rawBodyOf } from "./body-limit";

export const requestNonceKey = (keyId: string, nonce: string) => `ingest:nonce:${keyId}:${nonce}`;

/**
 * Claims a verified request's nonce for its key: true when it is fresh, false when it was used.
 * The nonce is remembered for REQUEST_NONCE_TTL_SECONDS, longer than the whole accepted window.
 */
export async function claimNonce(c: AppContext, key: ApiKeyPrincipal, nonce: string): Promise<boolean> {
  let fresh: unknown;
  try {
    fresh = await c.get("redis").set(requestNonceKey(key.id, nonce), 1, {
      nx: true,
      ex: REQUEST_NONCE_TTL_SECONDS,
    });
  } catch (err) {
    // Without Redis a replay cannot be ruled out: refuse rather than risk counting money twice.
    c.get("log").error("nonce check unavailable", err, { key_id: key.id });
    throw new ApiError("SERVICE_UNAVAILABLE", "Replay protection unavailable, try again later");
  }
  return fresh !== null;
}

/** Gives a claimed nonce back (its request was refused before it counted), so a retry may use it. */
export function releaseNonce(c: AppContext, key: ApiKeyPrincipal, nonce: string): Promise<unknown> {
  return c
    .get("redis")
    .del(requestNonceKey(key.id, nonce))
    .catch(() => undefined);
}

/**
 * The request's signature and time window, checked without I/O; its nonce when both hold.
 * Throws INVALID_PARAMS, INVALID_API_KEY, INVALID_SIGNATURE or EXPIRED_REQUEST.
 */
export async function verifyRequestSignature(
  c: AppContext,
  key: ApiKeyPrincipal,
  maxSkewMs = REQUEST_MAX_SKEW_MS,
): Promise<{ nonce: string }> {
  const envelope = v.safeParse(SignedEnvelopeSchema, jsonBodyOf(c));
  if (!envelope.success) throw new ApiError("INVALID_PARAMS", describeIssues(envelope.issues));
  const body = envelope.output;
  if (body.advertiser_id !== key.advertiser_id) {
    throw new ApiError("INVALID_API_KEY", "API key does not belong to this advertiser_id");
  }

  let timestamp: number;
  let nonce: string;
  const v2Header = c.req.header(SIGNATURE_V2_HEADERS.signature);
  if (v2Header !== undefined) {
    const tsHeader = c.req.header(SIGNATURE_V2_HEADERS.timestamp) ?? "";
    const nonceHeader = c.req.header(SIGNATURE_V2_HEADERS.nonce) ?? "";
    if (!/^\d{1,16}$/.test(tsHeader)) {
      throw new ApiError(
        "INVALID_PARAMS",
        'Invalid parameter "X-Signature-Timestamp": milliseconds required',
      );
    }
    if (!REQUEST_NONCE_PATTERN.test(nonceHeader)) {
      throw new ApiError(
        "INVALID_PARAMS",
        'Invalid parameter "X-Signature-Nonce": 8-128 chars of [A-Za-z0-9_-]',
      );
    }
    timestamp = Number(tsHeader);
    nonce = nonceHeader;
    const signature = parseSignatureV2Header(v2Header);
    if (!key.signing_secret) throw new ApiError("INVALID_SIGNATURE", "This API key has no signing secret");
    const url = new URL(c.req.url);
    const valid =
      signature !== null &&
      (await verifySignatureV2(
        {
          secret: key.signing_secret,
          method: c.req.method,
          path: url.pathname + url.search,
          timestamp,
          nonce,
          body: rawBodyOf(c),
        },
        signature,
      ));
    if (!valid) throw new ApiError("INVALID_SIGNATURE", "Invalid signature");
  } else {
    if (key.require_strong_signature) {
      throw new ApiError(
        "INVALID_SIGNATURE",
        "This advertiser requires v2 request signatures (X-Signature header)",
      );
    }
    if (body.timestamp === undefined) throw new ApiError("INVALID_PARAMS", 'Missing parameter "timestamp"');
    if (body.nonce === undefined) throw new ApiError("INVALID_PARAMS", 'Missing parameter "nonce"');
    if (body.signature === undefined) throw new ApiError("INVALID_PARAMS", 'Missing parameter "signature"');
    timestamp = body.timestamp;
    nonce = body.nonce;
    const valid = await verifySeedSignature(
      { apiKey: key.presented, advertiserId: body.advertiser_id, timestamp, nonce },
      body.signature,
    );
    if (!valid) throw new ApiError("INVALID_SIGNATURE", "Invalid signature");
  }

  if (checkRequestTime(timestamp, c.get("services").now(), maxSkewMs) === "expired") {
    throw new ApiError("EXPIRED_REQUEST", "Request timestamp is more than 5 minutes off");
  }
  return { nonce };
}
