// AffTrack server-to-server example (Node.js 20+, no dependencies): reports a server-side click,
// then a conversion (postback) attributed to it, signed with the seed's HMAC-SHA256 recipe.
// The seed's version uses axios; Node 20's built-in fetch does the same here, so nothing needs
// installing (`npm install` is not needed).
//
//   AFFTOK_API_KEY=ak_... AFFTOK_ADVERTISER_ID=adv_... AFFTOK_OFFER_ID=off_... \
//   AFFTOK_TRACKING_CODE=... AFFTOK_BASE_URL=http://127.0.0.1:8788 node index.js
//
// Prints one JSON line: {"click_id":...,"conversion_id":...,"transaction_id":...}.

import { createHmac, randomBytes } from "node:crypto";

const API_KEY = requireEnv("AFFTOK_API_KEY");
const ADVERTISER_ID = requireEnv("AFFTOK_ADVERTISER_ID");
const BASE_URL = (process.env.AFFTOK_BASE_URL || "https://api.afftok.com").replace(/\/+$/, "");
const OFFER_ID = requireEnv("AFFTOK_OFFER_ID");
const TRACKING_CODE = process.env.AFFTOK_TRACKING_CODE || "";

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

/** signature = hex(HMAC-SHA256(api_key, "{api_key}|{advertiser_id}|{timestamp}|{nonce}")) */
function generateSignature(apiKey, advertiserId, timestamp, nonce) {
  return createHmac("sha256", apiKey).update(`${apiKey}|${advertiserId}|${timestamp}|${nonce}`).digest("hex");
}

/** Seconds a Retry-After asks for: delta-seconds or an HTTP date (RFC 9110); null if neither. */
function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

/**
 * POSTs a signed body. Every attempt gets a fresh timestamp and nonce. Retries 429/503 (nothing was
 * written) and, when `keyed` (a transaction_id makes a repeat harmless), network errors too.
 */
async function send(path, fields, { keyed }) {
  let uncertain = false; // an earlier attempt may have been recorded (its answer was lost)
  for (let attempt = 0; ; attempt++) {
    const timestamp = Date.now();
    const nonce = randomBytes(16).toString("hex");
    const body = {
      api_key: API_KEY,
      advertiser_id: ADVERTISER_ID,
      ...fields,
      timestamp,
      nonce,
      signature: generateSignature(API_KEY, ADVERTISER_ID, timestamp, nonce),
    };
    let res;
    try {
      res = await fetch(`${BASE_URL}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      if (!keyed || attempt >= 3) throw err;
      uncertain = true;
      await sleep(backoff(attempt));
      continue;
    }
    const json = await res.json().catch(() => ({}));
    const retryAfter = retryAfterSeconds(res.headers.get("retry-after"));
    if ((res.status === 429 || res.status === 503) && attempt < 3 && (retryAfter ?? 0) <= 60) {
      await sleep(Math.max((retryAfter ?? 0) * 1000, backoff(attempt)));
      continue;
    }
    // A retry after a lost answer told "duplicate": that attempt was recorded. After a 429/503
    // (which write nothing) a 409 is a real duplicate, reported as an error below.
    if (keyed && uncertain && res.status === 409 && json.code === "DUPLICATE_TRANSACTION") {
      return { already_recorded: true };
    }
    if (!json.success) throw new Error(`${path}: ${res.status} ${json.code}: ${json.error}`);
    return json.data;
  }
}

const backoff = (attempt) => Math.random() * Math.min(8000, 250 * 2 ** attempt);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let clickId = null;
if (TRACKING_CODE) {
  const click = await send(
    "/api/sdk/click",
    {
      offer_id: OFFER_ID,
      tracking_code: TRACKING_CODE,
      sub_id_1: "source",
      sub_id_2: "medium",
      sub_id_3: "campaign",
      ip: "203.0.113.10",
      user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    },
    { keyed: false },
  );
  clickId = click.click_id;
}

const transactionId = process.env.AFFTOK_TRANSACTION_ID || `txn_${randomBytes(8).toString("hex")}`;
const conversion = await send(
  "/api/postback",
  {
    offer_id: OFFER_ID,
    transaction_id: transactionId,
    click_id: clickId,
    amount: 29.99,
    currency: "USD",
    status: "approved",
    custom_params: { product_id: "prod_456" },
  },
  { keyed: true },
);
console.log(
  JSON.stringify({
    click_id: clickId,
    conversion_id: conversion.conversion_id ?? null,
    transaction_id: transactionId,
  }),
);
