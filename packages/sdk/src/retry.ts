// Retries with exponential backoff and full jitter, honouring Retry-After, and only where a retry
// cannot count anything twice:
// - 429 and 503: the API refused before writing (docs/ingestion-api.md: a refused request writes no
//   row and gives its nonce back), so any request may be sent again;
// - network errors and 500/502/504: only for requests that are idempotent (GET, status changes) or
//   keyed (postbacks and conversions are unique per transaction_id, so a repeat is answered
//   409 DUPLICATE_TRANSACTION; the ingestion client reports that as "already recorded" only when an
//   earlier attempt's outcome was unknown, see RetriedResponse.uncertain).
// Each attempt is prepared afresh, so signed requests carry a new timestamp and nonce every time.

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables). */
  retries?: number;
  /** First backoff ceiling in ms (default 250), doubled per retry up to `maxDelayMs` (default 8 000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the response is returned (default 60 000). */
  maxRetryAfterMs?: number;
  /** For tests: the random source of the jitter and the sleep. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** `unsafe`: a repeat could count twice (SDK clicks, batches, non-idempotent management calls). */
export type RetryPolicy = "idempotent" | "keyed" | "unsafe";

export interface RetriedResponse {
  response: Response;
  attempts: number;
  /**
   * True when an earlier attempt may have been carried out: it ended in a network error or a
   * 500/502/504 (outcome unknown). False when every earlier attempt was refused with 429/503,
   * which write nothing.
   */
  uncertain: boolean;
}

const ALWAYS = new Set([429, 503]);
const IF_SAFE = new Set([500, 502, 504]);

/** Milliseconds a Retry-After value asks for (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The backoff before retry number `retry` (0-based): uniform in [0, min(max, base·2^retry)). */
export function backoffDelay(retry: number, opts: RetryOptions = {}): number {
  const ceiling = Math.min(opts.maxDelayMs ?? 8000, (opts.baseDelayMs ?? 250) * 2 ** retry);
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends `prepare(attempt)` until a response is final. Throws the last network error when every
 * attempt failed without a response.
 */
export async function sendWithRetry(
  prepare: (attempt: number) => Promise<Request>,
  send: (request: Request) => Promise<Response>,
  policy: RetryPolicy,
  opts: RetryOptions = {},
): Promise<RetriedResponse> {
  const retries = Math.max(0, opts.retries ?? 3);
  const sleep = opts.sleep ?? defaultSleep;
  let uncertain = false;
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= retries;
    let response: Response;
    try {
      response = await send(await prepare(attempt));
    } catch (error) {
      if (last || policy === "unsafe") throw error;
      uncertain = true;
      await sleep(backoffDelay(attempt, opts));
      continue;
    }
    const retryable = ALWAYS.has(response.status) || (policy !== "unsafe" && IF_SAFE.has(response.status));
    if (last || !retryable) return { response, attempts: attempt + 1, uncertain };
    const asked = parseRetryAfter(response.headers.get("retry-after"));
    if (asked !== null && asked > (opts.maxRetryAfterMs ?? 60_000))
      return { response, attempts: attempt + 1, uncertain };
    if (!ALWAYS.has(response.status)) uncertain = true;
    await response.body?.cancel();
    await sleep(Math.max(asked ?? 0, backoffDelay(attempt, opts)));
  }
}

/** The policy of a management-API call: safe methods retry on anything transient. */
export function methodPolicy(method: string): RetryPolicy {
  return ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"].includes(method.toUpperCase()) ? "idempotent" : "unsafe";
}
