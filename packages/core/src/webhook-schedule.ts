// When a failed webhook is tried again: the Standard Webhooks schedule (immediately, 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h) with ±10 % jitter, a Retry-After that asks for more
// honoured, and Cloudflare Queues' 12-hour delay limit met by chaining hops.

/** Wait before attempt n+1 after attempt n failed (index n-1); attempt 1 is immediate. */
export const WEBHOOK_RETRY_SCHEDULE_SECONDS = [
  5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
] as const;
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_SCHEDULE_SECONDS.length + 1;
/** An endpoint failing this long without one success is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * 86_400_000;
/** Longest `delaySeconds` Cloudflare Queues accepts on send() and retry() (12 hours). */
export const QUEUE_MAX_DELAY_SECONDS = 43_200;
export const WEBHOOK_TIMEOUT_MS = 15_000;
export const WEBHOOK_JITTER = 0.1;
/** A Retry-After is honoured up to the schedule's longest step. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Milliseconds to wait after failed attempt `attempt` (1-based), or null when it was the last.
 * `scale` shrinks the schedule (tests run days in seconds); `random` is in [0, 1).
 */
export function webhookRetryDelayMs(
  attempt: number,
  opts: { scale?: number; random?: number; retryAfterMs?: number | null } = {},
): number | null {
  const step = WEBHOOK_RETRY_SCHEDULE_SECONDS[attempt - 1];
  if (step === undefined) return null;
  const scale = opts.scale ?? 1;
  const jitter = 1 + WEBHOOK_JITTER * (2 * (opts.random ?? Math.random()) - 1);
  const scheduled = step * 1000 * scale * jitter;
  const asked = opts.retryAfterMs ? Math.min(opts.retryAfterMs, MAX_RETRY_AFTER_MS) * scale : 0;
  return Math.round(Math.max(scheduled, asked));
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from `now`, or null. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The queue delay for a message due at `dueAt`: whole seconds (what Queues accepts), at most 12 h.
 * A message that arrives early is sent again for the rest (a hop), or, under a second, waited for.
 */
export function queueDelaySeconds(dueAt: number, now: number): number {
  return Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(0, Math.floor((dueAt - now) / 1000)));
}
