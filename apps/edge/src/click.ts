// The redirect: decide the verdict from pure checks, queue the click, then answer the visitor, and
// do the replay check, dedupe and queue send afterwards in waitUntil. The visitor waits only for
// the link record (usually from the isolate cache). The click is queued before the response is
// built, so nothing that goes wrong building it can lose the click.

import {
  type ClickEvent,
  type ClickFlag,
  checkLinkTime,
  DEFAULT_FRAUD_RULES,
  DEFAULT_SHORT_LINK_POLICY,
  dedupeRuleFor,
  fillUrlTemplate,
  isCountryBlocked,
  isDatacenterAsn,
  type LinkRecord,
  MAX_FUTURE_SKEW_MS,
  MAX_LINK_TTL_SECONDS,
  type MacroValues,
  newClickId,
  type ParsedLinkToken,
  readSubIds,
  type Verdict,
  verifyLinkSignature,
} from "@afftrack/core";
import { enqueueClick } from "./click-batch";
import type { EdgeConfig, EdgeEnv } from "./env";
import { getLinkRecord, type LinkLookup } from "./link-cache";
import { errorPage, geoBlockedPage, misconfiguredPage, notFoundPage, unavailablePage } from "./pages";
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
      // Short links are not signed: the offer's short_link_policy decides (count_deduped is
      // enforced by the stricter dedupe rule when the click is settled).
      return (record.short_link_policy ?? DEFAULT_SHORT_LINK_POLICY) === "do_not_count"
        ? "not_counted"
        : "valid";
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

/** The fallback URL filled, if the offer has one that can be used. */
function toFallback(record: LinkRecord, macros: MacroValues): Response | null {
  const location = record.fallback_url ? fillUrlTemplate(record.fallback_url, macros) : null;
  return location ? redirect(location) : null;
}

/**
 * Where the visitor goes. A destination that cannot be filled into a URL of its own origin (a
 * macro in the host of an offer stored before that was refused, a value changing the host, control
 * characters) sends the visitor to the fallback or an error page, never to a host they chose.
 */
function respond(record: LinkRecord, verdict: Verdict, geoBlocked: boolean, macros: MacroValues): Response {
  if (verdict === "paused") return toFallback(record, macros) ?? unavailablePage();
  if (geoBlocked) return toFallback(record, macros) ?? geoBlockedPage();
  const location = fillUrlTemplate(record.destination_url, macros);
  if (location) return redirect(location);
  console.error(
    JSON.stringify({
      msg: "offer destination unusable, click sent to fallback",
      offer_id: record.offer_id,
      tracking_code: record.tracking_code,
    }),
  );
  return toFallback(record, macros) ?? misconfiguredPage();
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
  const cf = request.cf as { country?: string; asn?: number } | undefined;
  const country =
    typeof cf?.country === "string" && /^[A-Z]{2}$/i.test(cf.country) ? cf.country.toUpperCase() : null;
  const userAgent = request.headers.get("user-agent");
  const ua = userAgentInfo(userAgent);
  const ip = request.headers.get("cf-connecting-ip") ?? "";
  // Only the query is read: no need to parse the whole URL again (the router already took the path).
  const query = request.url.indexOf("?");
  const subs = readSubIds(new URLSearchParams(query < 0 ? "" : request.url.slice(query + 1)));
  const clickId = newClickId(now);

  let verdict: Verdict = await initialVerdict(link, record, config, now);
  const geoBlocked = isCountryBlocked(record, country);
  if (geoBlocked && (verdict === "valid" || verdict === "legacy")) verdict = "geo_blocked";
  if ((verdict === "valid" || verdict === "legacy") && (ua.bot || request.method === "HEAD")) verdict = "bot";
  // Datacenter traffic: flagged (or held, or refused) by the offer's rule, never silently dropped.
  const fraud = record.fraud ?? DEFAULT_FRAUD_RULES;
  const flags: ClickFlag[] = [];
  let hold = false;
  if (
    fraud.datacenter !== "off" &&
    (verdict === "valid" || verdict === "legacy") &&
    isDatacenterAsn(cf?.asn, config.datacenterAsns)
  ) {
    flags.push("datacenter");
    if (fraud.datacenter === "reject") verdict = "datacenter";
    else if (fraud.datacenter === "hold") hold = true;
  }

  const macros: MacroValues = {
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
    ...(flags.length > 0 ? { flags } : {}),
    ...(hold ? { hold } : {}),
  };
  enqueueClick(env, ctx, {
    event,
    ip,
    userAgent,
    dedupe: dedupeRuleFor(record, link.kind === "short", config.dedupeSeconds),
    nonce: link.kind === "signed" ? link.nonce : null,
    frequency: { ip: fraud.ip_frequency, link: fraud.link_frequency },
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
  try {
    return respond(record, verdict, geoBlocked, macros);
  } catch (err) {
    console.error(
      JSON.stringify({ msg: "redirect response failed", offer_id: record.offer_id, error: String(err) }),
    );
    return errorPage();
  }
}
