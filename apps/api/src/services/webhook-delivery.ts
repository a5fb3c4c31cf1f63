// The webhook and postback delivery engine, run by the `webhooks` queue consumer (never inside the
// request that caused the event): expands a conversion into deliveries (one per endpoint, keyed by
// the stable webhook-id), makes attempts (signed, 15 s timeout, redirects not followed), logs each
// one, schedules the next through the queue, and disables endpoints that are gone or keep failing.

import {
  checkDestination,
  deliveryIdOf,
  eventIdOf,
  fillPostbackUrl,
  newEventId,
  type PostbackValues,
  parseRetryAfter,
  postbackSignature,
  postbackSignatureBase,
  queueDelaySeconds,
  signedWebhookBody,
  standardWebhookHeaders,
  WEBHOOK_DISABLE_AFTER_MS,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_TIMEOUT_MS,
  type WebhookQueueMessage,
  type WebhookTrigger,
  webhookPayloadText,
  webhookRetryDelayMs,
} from "@afftrack/core";
import {
  abandonDelivery,
  activeSecrets,
  type ClaimedDelivery,
  type ConversionFact,
  claimDelivery,
  endpointsForConversion,
  insertDeliveries,
  loadConversionFact,
  markEndpointFailing,
  markEndpointHealthy,
  type NewDelivery,
  otherEndpointsOfOwner,
  recordAttempt,
  type WebhookEndpointsTable,
} from "@afftrack/db";
import type { Selectable } from "kysely";
import type { Services } from "./factory";

type Endpoint = Selectable<WebhookEndpointsTable>;

export interface DeliveryDeps {
  services: Services;
  queue: Queue<WebhookQueueMessage> | undefined;
}

const USER_AGENT = "AffTrack-Webhooks/1.0";
const RESPONSE_EXCERPT_BYTES = 1024;
/** A claimed attempt is someone else's for this long (longer than the 15 s timeout). */
const LEASE_SECONDS = 60;

/** Numeric text as the API shows money: "29.9900" → "29.99" (exact; no float arithmetic). */
function moneyText(numeric: string): string {
  return numeric.includes(".") ? numeric.replace(/0+$/, "").replace(/\.$/, "") : numeric;
}

/** The event's `data`: the advertiser sees revenue and payout; a publisher sees what they earn. */
function conversionData(
  fact: ConversionFact,
  msg: Extract<WebhookQueueMessage, { kind: "conversion" }>,
  e: Endpoint,
) {
  const common = {
    conversion_id: fact.id,
    offer_id: fact.offer_id,
    transaction_id: fact.transaction_id,
    status: msg.status,
    ...(msg.type === "conversion.updated" ? { previous_status: msg.previous_status } : {}),
    event_type: fact.event_type,
    click_id: fact.click_id,
    created_at: fact.created_at.toISOString(),
  };
  if (e.owner_type === "publisher") {
    return {
      ...common,
      amount: Number(moneyText(fact.payout)),
      currency: fact.payout_currency,
      publisher_id: fact.publisher_id,
      sub1: fact.sub1,
      sub2: fact.sub2,
      sub3: fact.sub3,
      sub4: fact.sub4,
      sub5: fact.sub5,
    };
  }
  return {
    ...common,
    amount: Number(moneyText(fact.amount)),
    currency: fact.currency,
    publisher_id: fact.publisher_id,
    payout: Number(moneyText(fact.payout)),
    payout_currency: fact.payout_currency,
  };
}

async function postbackRequest(
  fact: ConversionFact,
  msg: Extract<WebhookQueueMessage, { kind: "conversion" }>,
  e: Endpoint,
  secret: string,
): Promise<{ url: string; payload: string }> {
  const timestamp = Math.floor(msg.occurred_at / 1000);
  const payout = moneyText(fact.payout);
  const signature = await postbackSignature(
    secret,
    postbackSignatureBase({
      conversion_id: fact.id,
      transaction_id: fact.transaction_id,
      status: msg.status,
      payout,
      currency: fact.payout_currency,
      timestamp,
    }),
  );
  const values: PostbackValues = {
    click_id: fact.click_id ?? "",
    transaction_id: fact.transaction_id,
    conversion_id: fact.id,
    sub1: fact.sub1 ?? "",
    sub2: fact.sub2 ?? "",
    sub3: fact.sub3 ?? "",
    sub4: fact.sub4 ?? "",
    sub5: fact.sub5 ?? "",
    payout,
    currency: fact.payout_currency,
    status: msg.status,
    offer_id: fact.offer_id,
    event_name: fact.event_type,
    timestamp: String(timestamp),
    signature,
  };
  return { url: fillPostbackUrl(e.url, values), payload: JSON.stringify(values) };
}

/** A conversion fact → one delivery per endpoint that wants it; first attempts made at once. */
export async function fanOutConversionFact(
  deps: DeliveryDeps,
  msg: Extract<WebhookQueueMessage, { kind: "conversion" }>,
): Promise<void> {
  const db = deps.services.db();
  const fact = await loadConversionFact(db, msg.conversion_id);
  if (!fact) {
    deps.services.log.warn("webhook fan-out: conversion not found", { conversion_id: msg.conversion_id });
    return;
  }
  const eventId = await eventIdOf(
    msg.type === "conversion.created"
      ? `conversion.created:${fact.id}`
      : `conversion.updated:${fact.id}:${msg.status}`,
  );
  const rows: NewDelivery[] = [];
  for (const e of await endpointsForConversion(db, fact)) {
    const base = {
      id: await deliveryIdOf(eventId, e.id),
      tenant_id: e.tenant_id,
      endpoint_id: e.id,
      event_id: eventId,
      event_type: msg.type,
      conversion_id: fact.id,
    };
    if (e.kind === "webhook") {
      if (!e.events.includes(msg.type)) continue;
      const payload = webhookPayloadText({
        event: msg.type,
        timestamp: msg.occurred_at,
        data: conversionData(fact, msg, e),
      });
      rows.push({ ...base, payload, request_method: "POST", request_url: e.url });
    } else {
      if (!e.statuses.includes(msg.status)) continue;
      if (e.fire_on === "first" && !fact.first_of_click) continue;
      const [secret] = await activeSecrets(db, e.id);
      if (!secret) continue;
      const { url, payload } = await postbackRequest(fact, msg, e, secret);
      rows.push({ ...base, payload, request_method: e.method, request_url: url });
    }
  }
  const waiting = await insertDeliveries(db, rows);
  await Promise.all(
    waiting.map((id) => attemptDelivery(deps, { delivery_id: id, attempt: 0, trigger: "scheduled" })),
  );
}

/** A `test` event (POST /api/webhooks/{id}/test), or any event built here: one delivery, queued. */
export async function createSingleDelivery(
  deps: DeliveryDeps,
  endpoint: Endpoint,
  event: { type: string; data: unknown; eventId?: string },
): Promise<{ delivery_id: string; event_id: string }> {
  const eventId = event.eventId ?? newEventId();
  const id = await deliveryIdOf(eventId, endpoint.id);
  const payload = webhookPayloadText({ event: event.type, timestamp: deps.services.now(), data: event.data });
  await insertDeliveries(deps.services.db(), [
    {
      id,
      tenant_id: endpoint.tenant_id,
      endpoint_id: endpoint.id,
      event_id: eventId,
      event_type: event.type,
      conversion_id: null,
      payload,
      request_method: "POST",
      request_url: endpoint.url,
    },
  ]);
  await enqueueAttempt(deps, { delivery_id: id, attempt: 0, trigger: "scheduled" }, 0);
  return { delivery_id: id, event_id: eventId };
}

/** Queues an attempt due in `delayMs` (chained hops past the queue's 12 h limit). */
export async function enqueueAttempt(
  deps: DeliveryDeps,
  a: { delivery_id: string; attempt: number; trigger: WebhookTrigger },
  delayMs: number,
): Promise<void> {
  if (!deps.queue) throw new Error("WEBHOOKS queue binding missing");
  const now = deps.services.now();
  const dueAt = now + Math.max(0, delayMs);
  await deps.queue.send(
    { v: 1, kind: "deliver", ...a, not_before: dueAt },
    { delaySeconds: queueDelaySeconds(dueAt, now) },
  );
}

/** Reads at most `limit` bytes of a response body, as text. */
async function excerpt(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all.slice(0, limit));
}

async function buildRequest(claim: ClaimedDelivery, nowMs: number) {
  const { delivery, endpoint, secrets } = claim;
  const headers: Record<string, string> = { "user-agent": USER_AGENT };
  let body: string | null = null;
  if (endpoint.kind === "webhook") {
    body = await signedWebhookBody(secrets[0] as string, delivery.payload);
    headers["content-type"] = "application/json";
    Object.assign(
      headers,
      await standardWebhookHeaders(secrets, delivery.id, Math.floor(nowMs / 1000), body),
    );
  } else {
    // Classic postbacks are not Standard Webhooks; the id still lets a tracker dedupe.
    headers["webhook-id"] = delivery.id;
    if (delivery.request_method === "POST") {
      body = delivery.payload;
      headers["content-type"] = "application/json";
    }
  }
  return { method: delivery.request_method, url: delivery.request_url, headers, body };
}

/**
 * Makes attempt `attempt + 1` of a delivery if it is still due (a duplicate or stale message does
 * nothing), logs it, and schedules what follows. Returns "busy" when another worker holds it.
 */
export async function attemptDelivery(
  deps: DeliveryDeps,
  a: { delivery_id: string; attempt: number; trigger: WebhookTrigger },
): Promise<"done" | "busy"> {
  const { services } = deps;
  const db = services.db();
  const claimed = await claimDelivery(db, a.delivery_id, a.attempt, LEASE_SECONDS);
  if (claimed.kind === "busy") return "busy";
  if (claimed.kind === "stale") return "done";
  const claim = claimed.claim;
  const { delivery, endpoint } = claim;
  if (!endpoint.enabled || endpoint.deleted || claim.secrets.length === 0) {
    await abandonDelivery(db, delivery.id);
    return "done";
  }
  const started = services.now();
  const req = await buildRequest(claim, started);
  let status: number | null = null;
  let responseBody: string | null = null;
  let error: string | null = null;
  let retryAfterMs: number | null = null;
  const destination = checkDestination(req.url, { allowLoopback: services.config.webhookAllowLoopback });
  if (!destination.ok) {
    error = `destination refused: ${destination.message}`;
  } else {
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: "manual",
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      status = res.status;
      if (status === 429 || status === 503)
        retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), started);
      responseBody = await excerpt(res, RESPONSE_EXCERPT_BYTES).catch(() => null);
    } catch (err) {
      const name = (err as { name?: string })?.name;
      error =
        name === "TimeoutError" || name === "AbortError"
          ? "timed out after 15 s"
          : `network error: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
    }
  }
  const latency = services.now() - started;
  const ok = status !== null && status >= 200 && status < 300;
  const scale = services.config.webhookRetryScale;
  let outcome: "succeeded" | "retry" | "failed" = ok ? "succeeded" : "retry";
  let delayMs: number | null = null;
  let disabled: Endpoint | null = null;
  if (ok) {
    if (endpoint.failing) await markEndpointHealthy(db, endpoint.id);
  } else {
    disabled = await markEndpointFailing(db, endpoint.id, {
      gone: status === 410,
      disableAfterMs: WEBHOOK_DISABLE_AFTER_MS * scale,
    });
    delayMs = webhookRetryDelayMs(delivery.attempt, { scale, retryAfterMs });
    const final =
      disabled !== null ||
      status === 410 ||
      !destination.ok ||
      a.trigger !== "scheduled" ||
      delivery.attempt >= WEBHOOK_MAX_ATTEMPTS ||
      delayMs === null;
    if (final) {
      outcome = "failed";
      delayMs = null;
    }
  }
  const nextAt = delayMs === null ? null : new Date(services.now() + delayMs);
  await recordAttempt(db, {
    tenant_id: delivery.tenant_id,
    delivery_id: delivery.id,
    attempt: delivery.attempt,
    trigger: a.trigger,
    request_method: req.method,
    request_url: req.url,
    request_headers: req.headers,
    request_body: req.body,
    response_status: status,
    response_body: responseBody,
    error,
    latency_ms: latency,
    next_attempt_at: nextAt,
    outcome,
  });
  if (outcome === "retry" && delayMs !== null) {
    await enqueueAttempt(
      deps,
      { delivery_id: delivery.id, attempt: delivery.attempt, trigger: "scheduled" },
      delayMs,
    );
  }
  if (disabled) await announceDisabled(deps, disabled);
  return "done";
}

/** `endpoint.disabled` to the owner's other endpoints (the owner learns without polling). */
async function announceDisabled(deps: DeliveryDeps, endpoint: Endpoint): Promise<void> {
  deps.services.log.warn("webhook endpoint disabled", {
    endpoint_id: endpoint.id,
    reason: endpoint.disabled_reason,
  });
  const others = await otherEndpointsOfOwner(deps.services.db(), endpoint);
  const eventId = await eventIdOf(`endpoint.disabled:${endpoint.id}:${endpoint.updated_at.toISOString()}`);
  await Promise.all(
    others.map((o) =>
      createSingleDelivery(deps, o, {
        type: "endpoint.disabled",
        eventId,
        data: {
          endpoint_id: endpoint.id,
          url: endpoint.url,
          disabled_reason: endpoint.disabled_reason,
          failing_since: endpoint.failing_since?.toISOString() ?? null,
        },
      }),
    ),
  );
}
