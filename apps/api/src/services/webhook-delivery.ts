// The webhook and postback delivery engine, run by the `webhooks` queue consumer (never inside the
// request that caused the event): expands a conversion into deliveries (one per endpoint, keyed by
// the stable webhook-id), makes attempts (signed, 15 s timeout, redirects not followed), logs each
// one, schedules the next through the queue, and disables endpoints that are gone or keep failing.

import {
  checkDestination,
  deliveryIdOf,
  eventIdOf,
  type FraudFact,
  fillPostbackUrl,
  fraudEventKey,
  type LiveConversion,
  MAX_FRAUD_FACTS_PER_MESSAGE,
  newEventId,
  type PostbackValues,
  parseRetryAfter,
  parseSecretKeyring,
  postbackSignature,
  postbackSignatureBase,
  queueDelaySeconds,
  type SecretKeyring,
  sendBatchesOf,
  signedWebhookBody,
  standardWebhookHeaders,
  storableText,
  WEBHOOK_DISABLE_AFTER_MS,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_TIMEOUT_MS,
  type WebhookPayload,
  type WebhookQueueMessage,
  type WebhookTrigger,
  webhookPayloadText,
  webhookRetryDelayMs,
} from "@afftrack/core";
import {
  type AttemptRecord,
  abandonDelivery,
  activeSecrets,
  type ClaimedDelivery,
  type ClaimResult,
  type ConversionFact,
  claimDeliveries,
  endpointHearsConversion,
  endpointsForConversions,
  endpointsForFraud,
  fraudFactReaches,
  insertDeliveries,
  loadConversionFacts,
  markEndpointFailing,
  markEndpointHealthy,
  type NewDelivery,
  otherEndpointsOfOwner,
  recordAttempts,
  type WebhookEndpointsTable,
} from "@afftrack/db";
import type { Selectable } from "kysely";
import type { Services } from "./factory";
import { type LiveNamespace, publishLive } from "./live";

type Endpoint = Selectable<WebhookEndpointsTable>;

export interface DeliveryDeps {
  services: Services;
  queue: Queue<WebhookQueueMessage> | undefined;
  /** The tenants' live channels: conversion facts are published there too (consumer only). */
  live?: LiveNamespace | undefined;
}

/**
 * Attempts of one consumer batch in flight at once. Different endpoints are fetched concurrently;
 * the bound keeps one slow receiver (15 s timeout) from holding the whole batch. The Workers
 * runtime itself queues connections beyond 6 per invocation, so past that this only bounds memory.
 */
export const DELIVERY_CONCURRENCY = 50;

let keyringCache: { text: string; ring: Promise<SecretKeyring> } | undefined;

/** The secrets keyring of this deployment (WEBHOOK_SECRETS_KEY), imported once per isolate. */
export function secretKeyring(services: Services): Promise<SecretKeyring> {
  const text = services.config.webhookSecretsKey;
  if (keyringCache?.text !== text) keyringCache = { text, ring: parseSecretKeyring(text) };
  return keyringCache.ring;
}

export interface AttemptJob {
  delivery_id: string;
  attempt: number;
  trigger: WebhookTrigger;
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

/** The conversion as the live feed shows it (the channel strips the sale for publishers). */
function liveConversionOf(
  fact: ConversionFact,
  msg: Extract<WebhookQueueMessage, { kind: "conversion" }>,
): LiveConversion {
  return {
    type: "conversion",
    change: msg.type === "conversion.created" ? "created" : "updated",
    at: msg.occurred_at,
    conversion_id: fact.id,
    offer_id: fact.offer_id,
    publisher_id: fact.publisher_id,
    advertiser_id: fact.advertiser_id,
    event_type: fact.event_type,
    status: msg.status,
    previous_status: msg.previous_status,
    amount: Number(moneyText(fact.amount)),
    currency: fact.currency,
    payout: Number(moneyText(fact.payout)),
    payout_currency: fact.payout_currency,
  };
}

/**
 * A conversion fact → one delivery per endpoint that wants it (and, when a fraud rule flagged a
 * new conversion, its `fraud.detected` deliveries); returns the first attempts to make. The
 * conversion is also published to the tenant's live channel (best effort).
 */
export async function fanOutConversionFact(
  deps: DeliveryDeps,
  msg: Extract<WebhookQueueMessage, { kind: "conversion" }>,
): Promise<AttemptJob[]> {
  const [jobs] = await fanOutConversionFacts(deps, [msg]);
  return jobs ?? [];
}

/**
 * fanOutConversionFact for a consumer batch's conversion messages together: one statement loads
 * the facts, one the endpoints they may reach, one writes every delivery, and each tenant's live
 * channel gets one call. Answers each message's first attempts, in order; throws (every message
 * retried: delivery ids are deterministic, a redelivered fact makes no second delivery) when
 * Postgres fails.
 */
export async function fanOutConversionFacts(
  deps: DeliveryDeps,
  msgs: ReadonlyArray<Extract<WebhookQueueMessage, { kind: "conversion" }>>,
): Promise<AttemptJob[][]> {
  if (msgs.length === 0) return [];
  const db = deps.services.db();
  const facts = await loadConversionFacts(
    db,
    msgs.map((m) => m.conversion_id),
  );
  const found: Array<{ fact: ConversionFact; msg: (typeof msgs)[number] } | null> = msgs.map((msg) => {
    const fact = facts.get(msg.conversion_id);
    if (fact) return { fact, msg };
    deps.services.log.warn("webhook fan-out: conversion not found", { conversion_id: msg.conversion_id });
    return null;
  });
  const present = found.filter((f) => f !== null);
  const live = publishLive(
    deps.live,
    present.map(({ fact, msg }) => ({ tenant_id: fact.tenant_id, event: liveConversionOf(fact, msg) })),
    deps.services.log,
  );
  const endpoints = await endpointsForConversions(
    db,
    present.map((f) => f.fact),
  );
  let ring: SecretKeyring | null = null;
  const keyring = async () => {
    ring ??= await secretKeyring(deps.services);
    return ring;
  };
  const perMessage: NewDelivery[][] = [];
  for (const entry of found) {
    perMessage.push(
      entry
        ? await deliveriesOfFact(
            db,
            entry.fact,
            entry.msg,
            endpoints.filter((e) => endpointHearsConversion(e, entry.fact)),
            keyring,
          )
        : [],
    );
  }
  const waiting = new Set(await insertDeliveries(db, perMessage.flat()));
  await live;
  return perMessage.map((rows) =>
    rows
      .filter((r) => waiting.has(r.id))
      .map((r) => ({ delivery_id: r.id, attempt: 0, trigger: "scheduled" as const })),
  );
}

/** The deliveries one conversion fact makes to the endpoints that hear it. */
async function deliveriesOfFact(
  db: ReturnType<Services["db"]>,
  fact: ConversionFact,
  msg: Extract<WebhookQueueMessage, { kind: "conversion" }>,
  endpoints: readonly Endpoint[],
  keyring: () => Promise<SecretKeyring>,
): Promise<NewDelivery[]> {
  const eventId = await eventIdOf(
    msg.type === "conversion.created"
      ? `conversion.created:${fact.id}`
      : `conversion.updated:${fact.id}:${msg.status}`,
  );
  const rows: NewDelivery[] = [];
  for (const e of endpoints) {
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
      const [secret] = await activeSecrets(db, e.id, await keyring());
      if (!secret) continue;
      const { url, payload } = await postbackRequest(fact, msg, e, secret);
      rows.push({ ...base, payload, request_method: e.method, request_url: url });
    }
  }
  if (msg.type === "conversion.created" && fact.fraud_kinds.length > 0 && fact.click_id) {
    const facts: FraudFact[] = fact.fraud_kinds.map((kind) => ({
      tenant_id: fact.tenant_id,
      kind,
      click_id: fact.click_id as string,
      offer_id: fact.offer_id,
      publisher_id: fact.publisher_id,
      advertiser_id: fact.advertiser_id,
      verdict: fact.click_verdict,
      flags: fact.click_flags,
      at: fact.created_at.getTime(),
      conversion_id: fact.id,
      transaction_id: fact.transaction_id,
    }));
    rows.push(...(await fraudDeliveries(facts, endpoints)));
  }
  return rows;
}

/** A fraud event as `fraud.detected` receivers get it (`data`, one event per delivery). */
function fraudData(f: FraudFact, e: Endpoint) {
  return {
    kind: f.kind,
    click_id: f.click_id,
    offer_id: f.offer_id,
    publisher_id: f.publisher_id,
    ...(e.owner_type === "advertiser" ? { advertiser_id: f.advertiser_id } : {}),
    verdict: f.verdict,
    flags: f.flags,
    ...(f.conversion_id ? { conversion_id: f.conversion_id, transaction_id: f.transaction_id ?? null } : {}),
    occurred_at: new Date(f.at).toISOString(),
  };
}

/** One delivery per fraud event × endpoint that hears it; the id stays the same on redelivery. */
async function fraudDeliveries(
  facts: readonly FraudFact[],
  endpoints: readonly Endpoint[],
): Promise<NewDelivery[]> {
  const rows: NewDelivery[] = [];
  for (const f of facts) {
    const targets = endpoints.filter(
      (e) => e.kind === "webhook" && e.events.includes("fraud.detected") && fraudFactReaches(e, f),
    );
    if (targets.length === 0) continue;
    const eventId = await eventIdOf(fraudEventKey(f));
    for (const e of targets) {
      rows.push({
        id: await deliveryIdOf(eventId, e.id),
        tenant_id: e.tenant_id,
        endpoint_id: e.id,
        event_id: eventId,
        event_type: "fraud.detected",
        conversion_id: f.conversion_id ?? null,
        payload: webhookPayloadText({ event: "fraud.detected", timestamp: f.at, data: fraudData(f, e) }),
        request_method: "POST",
        request_url: e.url,
      });
    }
  }
  return rows;
}

/** A `fraud` message (a committed click batch) → `fraud.detected` deliveries; first attempts to make. */
export async function fanOutFraud(
  deps: DeliveryDeps,
  msg: Extract<WebhookQueueMessage, { kind: "fraud" }>,
): Promise<AttemptJob[]> {
  const db = deps.services.db();
  const endpoints = await endpointsForFraud(db, msg.facts);
  if (endpoints.length === 0) return [];
  const waiting = await insertDeliveries(db, await fraudDeliveries(msg.facts, endpoints));
  return waiting.map((id) => ({ delivery_id: id, attempt: 0, trigger: "scheduled" }));
}

/**
 * Sends a committed click batch's fraud events to the `webhooks` queue: one message per batch
 * (split only past MAX_FRAUD_FACTS_PER_MESSAGE, the queue's message size). Never throws: a lost
 * message is logged (the fraud_events rows and the stats are the record).
 */
export async function queueFraudFacts(
  queue: Queue<WebhookQueueMessage> | undefined,
  facts: readonly FraudFact[],
  log: Services["log"],
): Promise<void> {
  if (!queue || facts.length === 0) return;
  const messages: { body: WebhookQueueMessage }[] = [];
  for (let i = 0; i < facts.length; i += MAX_FRAUD_FACTS_PER_MESSAGE) {
    messages.push({ body: { v: 1, kind: "fraud", facts: facts.slice(i, i + MAX_FRAUD_FACTS_PER_MESSAGE) } });
  }
  // A batch of 2,000 fraud clicks is ~10 messages over 256 KB: one sendBatch of them would fail whole.
  for (const group of sendBatchesOf(messages)) {
    try {
      await queue.sendBatch(group);
    } catch (err) {
      log.error("fraud.detected events not queued", err, { messages: group.length });
    }
  }
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
    // The seed's body carries its own timestamp and signature. Each attempt is stamped with its
    // send time (a receiver's replay window then holds on retries days later; `webhook-id` stays
    // the dedupe key), and signed with the OLDEST active secret: after a rotation, seed-style
    // receivers keep verifying with the secret they have until the overlap ends (the Standard
    // Webhooks headers carry every active secret's signature meanwhile).
    const payload = JSON.parse(delivery.payload) as WebhookPayload;
    body = await signedWebhookBody(
      secrets[secrets.length - 1] as string,
      webhookPayloadText({ ...payload, timestamp: nowMs }),
    );
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

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface AttemptOutcome {
  record: AttemptRecord;
  retry: { job: AttemptJob; delayMs: number } | null;
  disabled: Endpoint | null;
}

/** One HTTP attempt of a claimed delivery and what follows from its answer (no log write yet). */
async function attemptClaimed(
  deps: DeliveryDeps,
  job: AttemptJob,
  claim: ClaimedDelivery,
): Promise<AttemptOutcome> {
  const { services } = deps;
  const db = services.db();
  const { delivery, endpoint } = claim;
  const started = services.now();
  let status: number | null = null;
  let responseBody: string | null = null;
  let error: string | null = null;
  let retryAfterMs: number | null = null;
  const destination = checkDestination(delivery.request_url, {
    allowLoopback: services.config.webhookAllowLoopback,
  });
  const req =
    claim.secretError === undefined
      ? await buildRequest(claim, started)
      : { method: delivery.request_method, url: delivery.request_url, headers: {}, body: null };
  if (claim.secretError !== undefined) {
    // Not sent: it cannot be signed. Logged and retried on the schedule like a failed attempt.
    error = "signing secret unavailable (sealed under a key not in WEBHOOK_SECRETS_KEY)";
    services.log.error("webhook secret does not open", undefined, {
      delivery_id: delivery.id,
      endpoint_id: endpoint.id,
      reason: claim.secretError,
    });
  } else if (!destination.ok) {
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
      // A receiver's bytes Postgres cannot store (NUL) must not fail the log write.
      responseBody = await excerpt(res, RESPONSE_EXCERPT_BYTES)
        .then(storableText)
        .catch(() => null);
    } catch (err) {
      const name = (err as { name?: string })?.name;
      error =
        name === "TimeoutError" || name === "AbortError"
          ? "timed out after 15 s"
          : storableText(`network error: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
    }
  }
  const latency = Math.round(services.now() - started);
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
      job.trigger !== "scheduled" ||
      delivery.attempt >= WEBHOOK_MAX_ATTEMPTS ||
      delayMs === null;
    if (final) {
      outcome = "failed";
      delayMs = null;
    }
  }
  const nextAt = delayMs === null ? null : new Date(services.now() + delayMs);
  return {
    record: {
      tenant_id: delivery.tenant_id,
      delivery_id: delivery.id,
      attempt: delivery.attempt,
      trigger: job.trigger,
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
    },
    retry:
      outcome === "retry" && delayMs !== null
        ? { job: { delivery_id: delivery.id, attempt: delivery.attempt, trigger: "scheduled" }, delayMs }
        : null,
    disabled,
  };
}

/**
 * Makes the next attempt of each delivery that is still due (a duplicate or stale job does
 * nothing): ONE statement claims them all, the requests go out concurrently (bounded, different
 * endpoints in parallel), ONE statement logs every attempt, and the retries are queued in one
 * batch. Returns the jobs another worker holds right now ("busy": look again after its lease).
 */
export async function attemptDeliveries(
  deps: DeliveryDeps,
  jobs: readonly AttemptJob[],
): Promise<Set<string>> {
  const busy = new Set<string>();
  if (jobs.length === 0) return busy;
  const { services } = deps;
  const db = services.db();
  const claims = await claimDeliveries(db, jobs, LEASE_SECONDS, await secretKeyring(services));
  const runnable: { job: AttemptJob; claim: ClaimedDelivery }[] = [];
  const abandoned: string[] = [];
  for (const job of jobs) {
    const claimed: ClaimResult | undefined = claims.get(job.delivery_id);
    if (claimed?.kind === "busy") busy.add(job.delivery_id);
    if (claimed?.kind !== "claimed") continue;
    claims.delete(job.delivery_id); // a job listed twice is attempted once
    const { claim } = claimed;
    if (
      !claim.endpoint.enabled ||
      claim.endpoint.deleted ||
      (claim.secrets.length === 0 && claim.secretError === undefined)
    )
      abandoned.push(claim.delivery.id);
    else runnable.push({ job, claim });
  }
  const outcomes: AttemptOutcome[] = [];
  await Promise.all([
    ...abandoned.map((id) => abandonDelivery(db, id)),
    eachBounded(runnable, DELIVERY_CONCURRENCY, async ({ job, claim }) => {
      outcomes.push(await attemptClaimed(deps, job, claim));
    }),
  ]);
  await recordAttempts(
    db,
    outcomes.map((o) => o.record),
  );
  const retries = outcomes.flatMap((o) => (o.retry ? [o.retry] : []));
  if (retries.length > 0) await enqueueAttempts(deps, retries);
  for (const o of outcomes) if (o.disabled) await announceDisabled(deps, o.disabled);
  return busy;
}

/** Queues attempts, each due after its delay, in one batch (chained hops past 12 h). */
export async function enqueueAttempts(
  deps: DeliveryDeps,
  list: readonly { job: AttemptJob; delayMs: number }[],
): Promise<void> {
  if (!deps.queue) throw new Error("WEBHOOKS queue binding missing");
  const now = deps.services.now();
  const messages = list.map(({ job, delayMs }) => {
    const dueAt = now + Math.max(0, delayMs);
    return {
      body: { v: 1, kind: "deliver", ...job, not_before: dueAt } as WebhookQueueMessage,
      delaySeconds: queueDelaySeconds(dueAt, now),
    };
  });
  for (const group of sendBatchesOf(messages)) await deps.queue.sendBatch(group);
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
