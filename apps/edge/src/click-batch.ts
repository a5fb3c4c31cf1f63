// Post-redirect work for many clicks at once. The first click of a window becomes the leader:
// its waitUntil waits a few milliseconds, then settles every click queued meanwhile with one
// Redis pipeline (nonces, dedupe), one pipeline of attribution records and one queue message.
// Other clicks only append plain data, so no request ever awaits I/O started by another.

import {
  CLICK_ATTRIBUTION_TTL_SECONDS,
  type ClickAttribution,
  type ClickBatchMessage,
  type ClickEvent,
  type ClickFlag,
  clickKey,
  dedupeKey,
  type FraudAction,
  type FrequencyRule,
  frequencyWindow,
  hashClientNetwork,
  hashIp,
  hashVisitor,
  ipFrequencyKey,
  linkFrequencyKey,
  MAX_CLICKS_PER_MESSAGE,
  nonceKey,
} from "@afftrack/core";
import type { EdgeEnv } from "./env";
import { edgeRedis } from "./link-cache";

export interface PendingClick {
  event: ClickEvent;
  /** Raw visitor IP: hashed here, never stored or queued. */
  ip: string;
  /** Raw user agent, for the `ip_ua` visitor identity (hashed, never queued in this form). */
  userAgent: string | null;
  /** The offer's dedupe rule for this click (see dedupeRuleFor); null: no dedupe. */
  dedupe: { mode: "ip" | "ip_ua"; seconds: number } | null;
  /** Nonce of a signed link, burned only when the click would count. */
  nonce: string | null;
  nonceTtlSeconds: number;
  /** The offer's click-frequency caps (per visitor IP, per link); absent: none. */
  frequency?: { ip: FrequencyRule | null; link: FrequencyRule | null };
}

/** How long a leader collects clicks before flushing; invisible to visitors (after the 302). */
const COLLECT_MS = 10;
/** Clicks settled together and sent as one queue message. */
const MAX_BATCH = MAX_CLICKS_PER_MESSAGE;
const QUEUE_ATTEMPTS = 3;

const buffer: PendingClick[] = [];
let leading = false;

export function enqueueClick(env: EdgeEnv, ctx: ExecutionContext, click: PendingClick): void {
  buffer.push(click);
  if (leading) return;
  leading = true;
  ctx.waitUntil(lead(env));
}

async function lead(env: EdgeEnv): Promise<void> {
  try {
    await new Promise((r) => setTimeout(r, COLLECT_MS));
    while (buffer.length > 0) {
      const batch = buffer.splice(0, MAX_BATCH);
      await settleClicks(env, batch);
    }
  } finally {
    leading = false;
  }
}

const counts = (e: ClickEvent) => e.verdict === "valid" || e.verdict === "legacy";

/**
 * A fraud rule fired on a click: always recorded in its flags; `hold` holds its conversions,
 * `reject` stops it counting (unless an earlier check already did: a replay stays a replay).
 */
function applyRule(event: ClickEvent, flag: ClickFlag, action: FraudAction): void {
  if (action === "off") return;
  event.flags = [...new Set([...(event.flags ?? []), flag])];
  if (action === "hold") event.hold = true;
  else if (action === "reject" && counts(event)) event.verdict = "frequency_cap";
}

/**
 * Bots and refused clicks never burn a nonce, so a link-preview crawler cannot spend a
 * publisher's link before the human clicks it.
 */
export async function settleClicks(env: EdgeEnv, batch: PendingClick[]): Promise<void> {
  const visitors = new Map<PendingClick, string>();
  const networks = new Map<PendingClick, string>();
  await Promise.all(
    batch.map(async (c) => {
      c.event.ip_hash = c.ip ? await hashIp(env.IP_HASH_SECRET, c.ip, c.event.created_at) : null;
      // The per-IP cap counts a client network (an IPv6 client's whole /64), across midnight.
      if (c.ip && c.frequency?.ip && counts(c.event)) {
        networks.set(c, await hashClientNetwork(env.IP_HASH_SECRET, c.ip));
      }
      if (c.ip && c.dedupe && counts(c.event)) {
        visitors.set(c, await hashVisitor(env.IP_HASH_SECRET, c.dedupe.mode, c.ip, c.userAgent));
      }
    }),
  );
  const redis = edgeRedis(env);
  const checked = batch.filter((c) => counts(c.event));
  if (checked.length > 0) {
    // One pipeline for every check: nonce (replay), dedupe, and the frequency counters.
    type Slot =
      | { click: PendingClick; kind: "nonce" | "dedupe" }
      | {
          click: PendingClick;
          kind: "frequency";
          flag: "ip_frequency" | "link_frequency";
          rule: FrequencyRule;
        }
      | { click: PendingClick; kind: "expire" };
    const slots: Slot[] = [];
    try {
      const p = redis.pipeline();
      for (const c of checked) {
        if (c.nonce) {
          p.set(nonceKey(c.nonce), 1, { nx: true, ex: c.nonceTtlSeconds });
          slots.push({ click: c, kind: "nonce" });
        }
        const visitor = visitors.get(c);
        if (visitor && c.dedupe) {
          p.set(dedupeKey(c.event.tracking_code, visitor), 1, { nx: true, ex: c.dedupe.seconds });
          slots.push({ click: c, kind: "dedupe" });
        }
        const counters = [
          { flag: "ip_frequency" as const, rule: c.frequency?.ip ?? null, id: networks.get(c) ?? null },
          { flag: "link_frequency" as const, rule: c.frequency?.link ?? null, id: c.event.tracking_code },
        ];
        for (const { flag, rule, id } of counters) {
          if (!rule || rule.action === "off" || !id) continue;
          const window = frequencyWindow(c.event.created_at, rule.window_seconds);
          const key =
            flag === "ip_frequency"
              ? ipFrequencyKey(c.event.offer_id, id, window)
              : linkFrequencyKey(c.event.tracking_code, window);
          p.incr(key);
          p.expire(key, rule.window_seconds + 60);
          slots.push({ click: c, kind: "frequency", flag, rule }, { click: c, kind: "expire" });
        }
      }
      const results = slots.length > 0 ? await p.exec<Array<"OK" | number | null>>() : [];
      const replayed = new Set<PendingClick>();
      slots.forEach((slot, i) => {
        const result = results[i];
        if (slot.kind === "nonce" || slot.kind === "dedupe") {
          if (result !== null) return;
          if (slot.kind === "nonce") {
            replayed.add(slot.click);
            slot.click.event.verdict = "replay";
          } else if (!replayed.has(slot.click)) slot.click.event.verdict = "duplicate";
        } else if (slot.kind === "frequency" && typeof result === "number" && result > slot.rule.max_clicks) {
          applyRule(slot.click.event, slot.flag, slot.rule.action);
        }
      });
    } catch (err) {
      // Without Redis a replay cannot be proven: the clicks keep their verdict (the visitor was
      // redirected) but are marked unverified, so conversions on them wait as pending for review.
      for (const slot of slots) slot.click.event.unverified = true;
      console.warn(
        JSON.stringify({
          msg: "replay/dedupe check skipped: redis unavailable",
          clicks: checked.length,
          error: String(err),
        }),
      );
    }
  }
  const events = batch.map((c) => c.event);
  await Promise.all([sendClicks(env, events), rememberClicks(env, events)]);
}

/** Lets a conversion find a click's offer and publisher before the consumer has written it. */
async function rememberClicks(env: EdgeEnv, events: ClickEvent[]): Promise<void> {
  try {
    const p = edgeRedis(env).pipeline();
    for (const e of events) {
      const attribution: ClickAttribution = {
        click_id: e.click_id,
        tenant_id: e.tenant_id,
        advertiser_id: e.advertiser_id,
        offer_id: e.offer_id,
        publisher_id: e.publisher_id,
        tracking_code: e.tracking_code,
        verdict: e.verdict,
        created_at: e.created_at,
        ...(e.unverified ? { unverified: true } : {}),
        ...(e.hold ? { hold: true } : {}),
      };
      p.set(clickKey(e.click_id), JSON.stringify(attribution), { ex: CLICK_ATTRIBUTION_TTL_SECONDS });
    }
    await p.exec();
  } catch (err) {
    // Postgres will have the clicks shortly; attribution then reads them from there.
    console.warn(
      JSON.stringify({ msg: "click attribution not cached", clicks: events.length, error: String(err) }),
    );
  }
}

/** Queue send with retries; if the queue keeps failing, write through the API worker directly. */
export async function sendClicks(env: EdgeEnv, events: ClickEvent[]): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < QUEUE_ATTEMPTS; attempt++) {
    try {
      await env.CLICKS.send({ v: 1, clicks: events } satisfies ClickBatchMessage, { contentType: "json" });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
  console.warn(
    JSON.stringify({
      msg: "queue send failed, writing clicks directly",
      clicks: events.length,
      error: String(lastError),
    }),
  );
  try {
    await env.LINKS.recordClicks(events);
  } catch (err) {
    const ids = events.map((e) => e.click_id);
    console.error(JSON.stringify({ msg: "clicks lost", click_ids: ids, error: String(err) }));
  }
}
