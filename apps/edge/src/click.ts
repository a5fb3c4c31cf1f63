// The redirect: decide the verdict from pure checks, answer the visitor at once, and do the
// replay check, dedupe and queue send afterwards in waitUntil. The visitor waits only for the
// link record (usually from the isolate cache).

import {
  CLICK_ATTRIBUTION_TTL_SECONDS,
  type ClickAttribution,
  type ClickEvent,
  checkLinkTime,
  classifyUserAgent,
  clickKey,
  dedupeKey,
  fillMacros,
  hashIp,
  isCountryBlocked,
  type LinkRecord,
  newClickId,
  nonceKey,
  type ParsedLinkToken,
  readSubIds,
  type Verdict,
  verifyLinkSignature,
} from "@afftrack/core";
import type { EdgeConfig, EdgeEnv } from "./env";
import { edgeRedis, getLinkRecord, type LinkLookup } from "./link-cache";
import { errorPage, geoBlockedPage, notFoundPage, unavailablePage } from "./pages";

export interface ClickRequest {
  request: Request;
  env: EdgeEnv;
  ctx: ExecutionContext;
  config: EdgeConfig;
  /** A parsed /c/ token, or a short code. */
  link: ParsedLinkToken | { kind: "short"; shortCode: string };
}

const QUEUE_ATTEMPTS = 3;

function lookupOf(link: ClickRequest["link"]): LinkLookup | null {
  if (link.kind === "short") return { shortCode: link.shortCode };
  if (link.kind === "invalid") return null;
  return { trackingCode: link.code };
}

async function initialVerdict(
  link: ClickRequest["link"],
  record: LinkRecord,
  config: EdgeConfig,
  now: number,
) {
  if (record.status !== "active") return "paused" satisfies Verdict;
  switch (link.kind) {
    case "signed": {
      if (!(await verifyLinkSignature(link, record.secrets))) return "invalid_signature";
      return checkLinkTime(link.timestamp, record.link_ttl_seconds, now) === "fresh" ? "valid" : "expired";
    }
    case "unsigned":
      if (config.allowLegacy) {
        console.warn(JSON.stringify({ msg: "legacy unsigned tracking link used", tracking_code: link.code }));
        return "legacy";
      }
      return "invalid_signature";
    case "short":
      // Short links are published by us, not signed by the publisher: they count like legacy links.
      return "valid";
    default:
      return "invalid_signature";
  }
}

function redirect(location: string): Response {
  return new Response(null, {
    status: 302,
    headers: {
      location,
      "cache-control": "private, no-store",
      "referrer-policy": "no-referrer-when-downgrade",
    },
  });
}

export async function handleClick(req: ClickRequest): Promise<Response> {
  const { request, env, ctx, config, link } = req;
  const lookup = lookupOf(link);
  if (!lookup) return notFoundPage();

  let record: LinkRecord | null;
  try {
    record = await getLinkRecord(env, lookup, config.cacheMs);
  } catch (err) {
    console.error(JSON.stringify({ msg: "link lookup failed", error: String(err) }));
    return errorPage();
  }
  if (!record) return notFoundPage();

  const now = Date.now();
  const cf = request.cf as { country?: string } | undefined;
  const country =
    typeof cf?.country === "string" && /^[A-Z]{2}$/i.test(cf.country) ? cf.country.toUpperCase() : null;
  const ua = classifyUserAgent(request.headers.get("user-agent"));
  const ip = request.headers.get("cf-connecting-ip") ?? "";
  const url = new URL(request.url);
  const subs = readSubIds(url.searchParams);
  const clickId = newClickId(now);

  let verdict: Verdict = await initialVerdict(link, record, config, now);
  const geoBlocked = isCountryBlocked(record, country);
  if (geoBlocked && (verdict === "valid" || verdict === "legacy")) verdict = "geo_blocked";
  if ((verdict === "valid" || verdict === "legacy") && (ua.bot || request.method === "HEAD")) verdict = "bot";

  const macros = {
    click_id: clickId,
    timestamp: Math.floor(now / 1000),
    ip,
    country: country ?? "",
    device: ua.device,
    os: ua.os,
    browser: ua.browser,
    ...subs,
    tracking_code: record.tracking_code,
    offer_id: record.offer_id,
    publisher_id: record.publisher_id,
  };

  let response: Response;
  if (verdict === "paused") {
    response = record.fallback_url ? redirect(fillMacros(record.fallback_url, macros)) : unavailablePage();
  } else if (geoBlocked) {
    response = record.fallback_url ? redirect(fillMacros(record.fallback_url, macros)) : geoBlockedPage();
  } else {
    response = redirect(fillMacros(record.destination_url, macros));
  }

  const event: ClickEvent = {
    v: 1,
    click_id: clickId,
    created_at: now,
    tenant_id: record.tenant_id,
    tracking_code: record.tracking_code,
    offer_id: record.offer_id,
    publisher_id: record.publisher_id,
    advertiser_id: record.advertiser_id,
    verdict,
    country,
    device: ua.device,
    os: ua.os.slice(0, 32),
    browser: ua.browser.slice(0, 32),
    ip_hash: null,
    ...subs,
    referer: request.headers.get("referer")?.slice(0, 1024) ?? null,
    source: link.kind === "short" ? "short" : "redirect",
  };
  ctx.waitUntil(finishClick(env, config, event, ip, link.kind === "signed" ? link.nonce : null, record));
  return response;
}

/**
 * After the visitor has their redirect: burn the nonce (replay), dedupe the visitor, then queue
 * the click. Bots and refused clicks never burn a nonce, so a link-preview crawler cannot spend a
 * publisher's link before the human clicks it.
 */
async function finishClick(
  env: EdgeEnv,
  config: EdgeConfig,
  event: ClickEvent,
  ip: string,
  nonce: string | null,
  record: LinkRecord,
): Promise<void> {
  event.ip_hash = ip ? await hashIp(env.IP_HASH_SECRET, ip, event.created_at) : null;
  if (event.verdict === "valid" || event.verdict === "legacy") {
    try {
      const redis = edgeRedis(env);
      const checks: Promise<unknown>[] = [];
      if (nonce) checks.push(redis.set(nonceKey(nonce), 1, { nx: true, ex: record.link_ttl_seconds + 60 }));
      if (event.ip_hash && config.dedupeSeconds > 0) {
        checks.push(
          redis.set(dedupeKey(event.tracking_code, event.ip_hash), 1, { nx: true, ex: config.dedupeSeconds }),
        );
      } else checks.push(Promise.resolve("OK"));
      const results = await Promise.all(checks);
      if (nonce && results[0] === null) event.verdict = "replay";
      else if (results[results.length - 1] === null) event.verdict = "duplicate";
    } catch (err) {
      // Without Redis we cannot prove a replay; the click is kept, flagged in the log for audit.
      console.warn(
        JSON.stringify({
          msg: "replay/dedupe check skipped: redis unavailable",
          click_id: event.click_id,
          error: String(err),
        }),
      );
    }
  }
  await Promise.all([sendClick(env, event), rememberClick(env, event)]);
}

/** Lets a conversion find this click's offer and publisher before the consumer has written it. */
async function rememberClick(env: EdgeEnv, event: ClickEvent): Promise<void> {
  const attribution: ClickAttribution = {
    click_id: event.click_id,
    tenant_id: event.tenant_id,
    advertiser_id: event.advertiser_id,
    offer_id: event.offer_id,
    publisher_id: event.publisher_id,
    tracking_code: event.tracking_code,
    verdict: event.verdict,
    created_at: event.created_at,
  };
  try {
    await edgeRedis(env).set(clickKey(event.click_id), attribution, { ex: CLICK_ATTRIBUTION_TTL_SECONDS });
  } catch (err) {
    // Postgres will have the click shortly; attribution then reads it from there.
    console.warn(
      JSON.stringify({ msg: "click attribution not cached", click_id: event.click_id, error: String(err) }),
    );
  }
}

/** Queue send with retries; if the queue keeps failing, write through the API worker directly. */
export async function sendClick(env: EdgeEnv, event: ClickEvent): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < QUEUE_ATTEMPTS; attempt++) {
    try {
      await env.CLICKS.send(event, { contentType: "json" });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
  console.warn(
    JSON.stringify({
      msg: "queue send failed, writing click directly",
      click_id: event.click_id,
      error: String(lastError),
    }),
  );
  try {
    await env.LINKS.recordClicks([event]);
  } catch (err) {
    console.error(
      JSON.stringify({
        msg: "click lost",
        click_id: event.click_id,
        verdict: event.verdict,
        error: String(err),
      }),
    );
  }
}
