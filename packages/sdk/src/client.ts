// The typed clients: `createApiClient` for the management API (JWT bearer) and `createIngestClient`
// for the ingestion API (API key + request signature), both on openapi-fetch over the generated
// `paths`, with the retry rules of ./retry.

import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./generated/schema";
import { methodPolicy, type RetryOptions, type RetryPolicy, sendWithRetry } from "./retry";
import { signBodySeed, signRequestV2 } from "./signing";

export const SDK_VERSION = "0.1.0";

export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** The API's origin, e.g. `https://api.example.com`. */
  baseUrl: string;
  /** A JWT access token, or a function returning the current one (e.g. after a refresh). */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  retry?: RetryOptions;
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * The management API, fully typed from the OpenAPI document.
 *
 * @example
 * const api = createApiClient({ baseUrl, token });
 * const { data, error } = await api.POST("/api/links/sign", { body: { tracking_code } });
 */
export function createApiClient(opts: ApiClientOptions): ApiClient {
  const send = opts.fetch ?? ((r: Request) => globalThis.fetch(r));
  return createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    fetch: async (request) => {
      const token = typeof opts.token === "function" ? await opts.token() : opts.token;
      const body = request.body ? await request.arrayBuffer() : undefined;
      const { response } = await sendWithRetry(
        async () => {
          const headers = new Headers(request.headers);
          if (token && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
          return new Request(request.url, { method: request.method, headers, body: body ?? null });
        },
        send,
        methodPolicy(request.method),
        opts.retry,
      );
      return response;
    },
  });
}

type JsonBody<P extends keyof paths> = paths[P] extends {
  post: { requestBody: { content: { "application/json": infer B } } };
}
  ? B
  : never;
type OkData<P extends keyof paths> = paths[P] extends {
  post: { responses: { 200: { content: { "application/json": { data: infer D } } } } };
}
  ? D
  : never;
/** What the caller writes: the signature fields and the advertiser are filled in by the client. */
type Input<P extends keyof paths> = Omit<
  JsonBody<P>,
  "api_key" | "advertiser_id" | "timestamp" | "nonce" | "signature"
>;

export type IngestResult<D> =
  | { ok: true; data: D; message?: string; status: number; attempts: number; alreadyRecorded?: false }
  /**
   * A retry of a postback/conversion, after an attempt whose outcome is unknown (a network error
   * or a 500/502/504), was answered 409 DUPLICATE_TRANSACTION: that attempt recorded it. Counted once; the conversion's id is not in this answer.
   */
  | { ok: true; data?: undefined; status: 409; attempts: number; alreadyRecorded: true }
  | { ok: false; status: number; error: string; code: string; attempts: number };

export interface IngestClientOptions {
  /** The ingestion API's origin (the seed's `AFFTOK_BASE_URL`). */
  baseUrl: string;
  apiKey: string;
  advertiserId: string;
  /**
   * The key's signing secret (`ss_…`): requests then carry the v2 signature over the exact body.
   * Without it the seed's signature (keyed by the API key) is used. Keep either on servers only.
   */
  signingSecret?: string;
  /** Sent as X-SDK-Platform when set (`android|ios|flutter|react-native|web`). */
  platform?: "android" | "ios" | "flutter" | "react-native" | "web";
  retry?: RetryOptions;
  fetch?: (request: Request) => Promise<Response>;
}

const POLICY: Record<string, RetryPolicy> = {
  "/api/postback": "keyed",
  "/api/sdk/conversion": "keyed",
  "/api/conversions/status": "idempotent",
  "/api/sdk/click": "unsafe",
  "/api/sdk/batch": "unsafe",
};

/**
 * The ingestion API: every request signed afresh per attempt (new timestamp and nonce), retried
 * where that cannot double-count.
 *
 * @example
 * const afftrack = createIngestClient({ baseUrl, apiKey, advertiserId });
 * const r = await afftrack.postback({ offer_id, transaction_id: order.id, click_id, amount: 29.99 });
 */
export function createIngestClient(opts: IngestClientOptions) {
  const send = opts.fetch ?? ((r: Request) => globalThis.fetch(r));
  const base = opts.baseUrl.replace(/\/+$/, "");

  async function post<P extends keyof typeof POLICY & keyof paths>(
    path: P,
    input: Input<P>,
  ): Promise<IngestResult<OkData<P>>> {
    const fields = { advertiser_id: opts.advertiserId, ...(input as Record<string, unknown>) };
    const policy = POLICY[path] ?? "unsafe";
    const { response, attempts, uncertain } = await sendWithRetry(
      async () => {
        const headers: Record<string, string> = {
          "content-type": "application/json",
          "x-api-key": opts.apiKey,
          "x-sdk-version": SDK_VERSION,
        };
        if (opts.platform) headers["x-sdk-platform"] = opts.platform;
        let body: string;
        if (opts.signingSecret) {
          body = JSON.stringify(fields);
          Object.assign(
            headers,
            await signRequestV2({ signingSecret: opts.signingSecret, method: "POST", path, body }),
          );
        } else {
          body = JSON.stringify(await signBodySeed(opts, fields));
        }
        return new Request(`${base}${path}`, { method: "POST", headers, body });
      },
      send,
      policy,
      opts.retry,
    );
    // biome-ignore lint/suspicious/noExplicitAny: the envelope is narrowed by `success` below
    const envelope: any = await response.json().catch(() => null);
    if (envelope?.success === true) {
      return { ok: true, data: envelope.data, message: envelope.message, status: response.status, attempts };
    }
    const code = typeof envelope?.code === "string" ? envelope.code : "UNKNOWN";
    // Only a retry after an attempt whose outcome is unknown (a network error, a 500/502/504) can
    // meet its own earlier write; after 429/503 nothing was written, so a 409 is a real duplicate.
    if (uncertain && policy === "keyed" && response.status === 409 && code === "DUPLICATE_TRANSACTION") {
      return { ok: true, status: 409, attempts, alreadyRecorded: true };
    }
    const error = typeof envelope?.error === "string" ? envelope.error : `HTTP ${response.status}`;
    return { ok: false, status: response.status, error, code, attempts };
  }

  return {
    /** POST /api/sdk/click: a click reported by an app or a server (not retried on network errors). */
    trackClick: (input: Input<"/api/sdk/click">) => post("/api/sdk/click", input),
    /** POST /api/sdk/conversion: a conversion from the SDK, keyed by transaction_id. */
    trackConversion: (input: Input<"/api/sdk/conversion">) => post("/api/sdk/conversion", input),
    /** POST /api/postback: a server-to-server conversion, keyed by transaction_id. */
    postback: (input: Input<"/api/postback">) => post("/api/postback", input),
    /** POST /api/sdk/batch: up to 100 clicks and conversions. */
    batch: (input: Input<"/api/sdk/batch">) => post("/api/sdk/batch", input),
    /** POST /api/conversions/status: approve or reject a conversion (idempotent). */
    updateConversionStatus: (input: Input<"/api/conversions/status">) =>
      post("/api/conversions/status", input),
  };
}

export type IngestClient = ReturnType<typeof createIngestClient>;
