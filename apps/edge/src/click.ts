// The redirect: decide the verdict from pure checks, answer the visitor at once, and do the
// replay check, dedupe and queue send afterwards in waitUntil. The visitor waits only for the
// link record (usually from the isolate cache).

import {
  type ClickEvent,
  checkLinkTime,
  fillMacros,
  isCountryBlocked,
  type LinkRecord,
  MAX_FUTURE_SKEW_MS,
  MAX_LINK_TTL_SECONDS,
  newClickId,
  type ParsedLinkToken,
  readSubIds,
  type Verdict,
  verifyLinkSignature,
} from "@afftrack/core";
import { enqueueClick } from "./click-batch";
import type { EdgeConfig, EdgeEnv } from "./env";
import { getLinkRecord, type LinkLookup } from "./link-cache";
import { errorPage, geoBlockedPage, notFoundPage, unavailablePage } from "./pages";
import { userAgentInfo } from "./user-agents";

export interface ClickRequest {
  request: Request;
  env: EdgeEnv;
  ctx: ExecutionContext;
  config: EdgeConfig;
  /** A parsed /c/ token, or a short code. */
  link: ParsedLinkToken | { kind: "short"; shortCode: string };
}

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
  const ua = userAgentInfo(request.headers.get("user-agent"));
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
  enqueueClick(env, config, ctx, {
    event,
    ip,
    nonce: link.kind === "signed" ? link.nonce : null,
    // Remembered until the link could no longer verify under any TTL the offer may be given later
    // (at most 24 h after its timestamp), so raising a TTL cannot revive a spent link.
    nonceTtlSeconds:
      link.kind === "signed"
        ? Math.max(
            60,
            Math.ceil((link.timestamp + MAX_LINK_TTL_SECONDS * 1000 + MAX_FUTURE_SKEW_MS - now) / 1000),
          )
        : 60,
  });
  return response;
}
