// What an accepted SDK click or conversion does, shared by the single-event routes and the batch:
// offer and geo checks, attribution to a click (Postgres first, then the edge's Redis copy of a
// click still in the queue), payout from the offer's model, and the one-statement write.

import {
  ApiError,
  assertIpAllowed,
  type ClickAttribution,
  ClickAttributionSchema,
  type ClickFieldsInput,
  COUNTED_VERDICTS,
  type ConversionFieldsInput,
  classifyUserAgent,
  clickKey,
  conversionTimeVerdict,
  FRAUD_VERDICTS,
  hashIp,
  isCountryBlocked,
  newClickId,
  newId,
  PAYABLE_CLICK_VERDICTS,
  parseIp,
  type SdkClickData,
  type SdkConversionData,
  SdkHeadersSchema,
  type Verdict,
  withFraudDefaults,
} from "@afftrack/core";
import {
  type AuthenticatedApiKey,
  type ConversionAttribution,
  type Database,
  type IngestClick,
  type IngestOffer,
  insertConversion,
  insertSdkClick,
  isPublisherEligible,
  loadClickContext,
  loadConversionContext,
  loadOffer,
  type NewConversion,
} from "@afftrack/db";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Kysely } from "kysely";
import * as v from "valibot";
import { type AppContext, waitUntilOf } from "../context";
import { insertConversionBatched } from "./conversion-batch";
import { createIsolateCache, INGEST_CACHE_TTL_MS } from "./isolate-cache";
import type { Logger } from "./logger";

export interface IngestDeps {
  db: Kysely<Database>;
  redis: Redis;
  log: Logger;
  ipHashSecret: string;
  /**
   * The request's ctx.waitUntil. Given, a single conversion without a paid click is written in a
   * micro-batch with concurrent ones (conversion-batch.ts); absent, on its own.
   */
  waitUntil?: (work: Promise<unknown>) => void;
}

export interface SdkInfo {
  version: string | null;
  platform: string | null;
}

/** The request's view of the visitor: country from Cloudflare, IP and user agent from headers. */
export interface RequestOrigin {
  country: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function ingestDepsOf(c: AppContext): IngestDeps {
  return {
    db: c.get("db")(),
    redis: c.get("redis"),
    log: c.get("log"),
    ipHashSecret: c.get("config").ipHashSecret,
    waitUntil: waitUntilOf(c),
  };
}

export function requestOriginOf(c: AppContext): RequestOrigin {
  const cf = (c.req.raw as { cf?: { country?: unknown } }).cf;
  const country =
    typeof cf?.country === "string" && /^[A-Z]{2}$/i.test(cf.country) ? cf.country.toUpperCase() : null;
  return {
    country,
    ip: c.req.header("cf-connecting-ip")?.trim() || null,
    userAgent: c.req.header("user-agent") ?? null,
  };
}

/** X-SDK-Version / X-SDK-Platform, validated; absent headers are null (server-side callers). */
export function sdkInfoOf(c: AppContext): SdkInfo {
  const parsed = v.safeParse(SdkHeadersSchema, {
    version: c.req.header("x-sdk-version") || undefined,
    platform: c.req.header("x-sdk-platform")?.toLowerCase() || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const header = v.getDotPath(issue) === "platform" ? "X-SDK-Platform" : "X-SDK-Version";
    throw new ApiError("INVALID_PARAMS", `Invalid parameter "${header}": ${issue.message}`);
  }
  return { version: parsed.output.version ?? null, platform: parsed.output.platform ?? null };
}

function assertOfferActive(offer: IngestOffer | null): asserts offer is IngestOffer {
  if (offer?.status !== "active") throw new ApiError("INVALID_OFFER", "Offer not found or inactive");
}

function assertCountryAllowed(offer: IngestOffer, country: string | null): void {
  if (isCountryBlocked(offer, country)) {
    throw new ApiError("GEO_BLOCKED", `Country ${country ?? "unknown"} is not allowed for this offer`);
  }
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;
const DAY_MS = 86_400_000;

/**
 * An SDK click is written straight to Postgres (not through the queue): the caller gets its
 * click_id in the response and may report a conversion for it at once.
 */
export async function recordSdkClick(
  deps: IngestDeps,
  req: { key: AuthenticatedApiKey; input: ClickFieldsInput; sdk: SdkInfo; origin: RequestOrigin },
): Promise<SdkClickData> {
  const { input, key, origin } = req;
  const ctx = await loadClickContext(deps.db, {
    advertiserId: key.advertiser_id,
    offerId: input.offer_id,
    trackingCode: input.tracking_code,
  });
  assertOfferActive(ctx?.offer ?? null);
  if (!ctx?.publisherId) {
    throw new ApiError(
      "INVALID_PARAMS",
      'Invalid parameter "tracking_code": not a tracking code of this offer',
    );
  }
  assertCountryAllowed(ctx.offer, origin.country);

  let ip = origin.ip;
  if (input.ip) {
    if (!parseIp(input.ip)) throw new ApiError("INVALID_PARAMS", 'Invalid parameter "ip": not an IP address');
    ip = input.ip;
  }
  const now = Date.now();
  const ua = input.user_agent ? classifyUserAgent(input.user_agent) : null;
  // A suspended publisher, or one no longer admitted to a private offer, is refused credit as the
  // edge refuses their links: the click is recorded as on a paused offer, counted and paid to no one.
  const verdict: Verdict = !ctx.publisherEligible ? "paused" : ua?.bot ? "bot" : "valid";
  const clickId = newClickId(now);
  const meta = {
    user_id: input.user_id ?? null,
    device_info: input.device_info ?? null,
    custom_params: input.custom_params ?? null,
  };
  await insertSdkClick(
    deps.db,
    {
      click_id: clickId,
      created_at: now,
      tenant_id: ctx.offer.tenant_id,
      tracking_code: input.tracking_code,
      offer_id: ctx.offer.id,
      publisher_id: ctx.publisherId,
      advertiser_id: key.advertiser_id,
      verdict,
      country: origin.country,
      device: ua?.device ?? null,
      os: ua?.os.slice(0, 32) ?? input.device_info?.platform ?? null,
      browser: ua?.browser.slice(0, 32) ?? null,
      ip_hash: ip ? await hashIp(deps.ipHashSecret, ip, now) : null,
      sub1: input.sub_id_1 ?? null,
      sub2: input.sub_id_2 ?? null,
      sub3: input.sub_id_3 ?? null,
      sub4: input.sub_id_4 ?? null,
      sub5: input.sub_id_5 ?? null,
      sdk_version: req.sdk.version,
      sdk_platform: req.sdk.platform,
      sdk_meta: Object.values(meta).some((x) => x !== null) ? meta : null,
    },
    { valid: COUNTED_VERDICTS.includes(verdict), fraud: FRAUD_VERDICTS.includes(verdict) },
  );
  return { click_id: clickId, offer_id: ctx.offer.id, tracking_code: input.tracking_code };
}

/** The click as the edge cached it while it waits in the queue (`click:{id}`, 1 day). */
async function queuedClick(deps: IngestDeps, clickId: string): Promise<IngestClick | null> {
  let cached: unknown;
  try {
    cached = await deps.redis.get<ClickAttribution>(clickKey(clickId));
  } catch (err) {
    // Recording the conversion unattributed would silently cost the publisher: let the caller retry.
    deps.log.error("click attribution lookup failed", err, { click_id: clickId });
    throw new ApiError("SERVICE_UNAVAILABLE", "Attribution unavailable, try again later");
  }
  const parsed = v.safeParse(ClickAttributionSchema, cached);
  return parsed.success ? parsed.output : null;
}

const offers = createIsolateCache<IngestOffer | null>({ ttlMs: INGEST_CACHE_TTL_MS });

/** An advertiser's offer as ingestion sees it; a pause or payout change applies within the cache TTL. */
function cachedOffer(deps: IngestDeps, advertiserId: string, offerId: string): Promise<IngestOffer | null> {
  return offers.get(`${advertiserId}:${offerId}`, () => loadOffer(deps.db, { advertiserId, offerId }));
}

/**
 * Records a conversion once per (advertiser, transaction_id). With a click_id of the same
 * advertiser it is tied to that click's offer and publisher; a click of another advertiser, or an
 * unknown one, leaves it unattributed (recorded, no publisher, no payout) and says so.
 */
export async function recordConversion(
  deps: IngestDeps,
  req: {
    key: AuthenticatedApiKey;
    input: ConversionFieldsInput;
    source: "postback" | "sdk" | "batch";
    sdk: SdkInfo;
    /** SDK conversions come from the visitor's device: the offer's geo rules apply to them. */
    geoCountry?: string | null;
    /** Postbacks: the offer's own IP allowlist applies to this client IP. */
    postbackIp?: string | null;
  },
): Promise<SdkConversionData> {
  const { input, key } = req;
  const clickId = input.click_id ?? null;
  // Without a click the offer is all there is to read, and it is served from the isolate cache.
  const ctx = clickId
    ? await loadConversionContext(deps.db, {
        advertiserId: key.advertiser_id,
        offerId: input.offer_id,
        clickId,
      })
    : { offer: await cachedOffer(deps, key.advertiser_id, input.offer_id), click: null };
  assertOfferActive(ctx.offer);
  if (req.postbackIp !== undefined)
    assertIpAllowed(ctx.offer.postback_ip_allowlist, req.postbackIp, "offer's");

  let attribution: ConversionAttribution = "no_click";
  let click: IngestClick | null = null;
  let uncountedVerdict: string | null = null;
  if (clickId) {
    const found = ctx.click ?? (await queuedClick(deps, clickId));
    if (!found) attribution = "click_not_found";
    else if (found.advertiser_id !== key.advertiser_id) attribution = "click_of_other_advertiser";
    else if (!PAYABLE_CLICK_VERDICTS.includes(found.verdict)) {
      attribution = "click_not_counted";
      uncountedVerdict = found.verdict;
    } else {
      attribution = "click";
      click = found;
    }
  }
  let offer = ctx.offer;
  if (click && click.offer_id !== offer.id) {
    // The click decides the offer; it may be paused by now, but the click was made while it ran.
    offer = (await cachedOffer(deps, key.advertiser_id, click.offer_id)) ?? offer;
    // The money goes to the click's offer, so its postback allowlist is the one that must hold.
    if (req.postbackIp !== undefined) assertIpAllowed(offer.postback_ip_allowlist, req.postbackIp, "offer's");
  }
  if (req.geoCountry !== undefined) assertCountryAllowed(offer, req.geoCountry);

  // Decided when the conversion arrives: a publisher suspended or removed from a private offer since
  // the click is not paid for it, and a click older than the offer's window no longer earns.
  if (click) {
    const eligible =
      click.publisher_eligible ??
      (await isPublisherEligible(deps.db, { publisherId: click.publisher_id, offerId: click.offer_id }));
    let refused: ConversionAttribution | null = null;
    if (!eligible) refused = "publisher_not_eligible";
    else if (offer.paid_event_types.length > 0 && !offer.paid_event_types.includes(input.event_type))
      refused = "event_type_not_paid";
    else if (Date.now() - click.created_at > offer.attribution_window_days * DAY_MS)
      refused = "click_too_old";
    if (refused) {
      attribution = refused;
      uncountedVerdict = click.verdict;
      click = null;
    }
  }

  const amount = round4(input.amount);
  let payout = 0;
  let payoutCurrency = offer.currency;
  if (click) {
    if (offer.payout_type === "revshare") {
      payout = round4((amount * offer.payout_amount) / 100);
      payoutCurrency = input.currency;
    } else payout = offer.payout_amount;
  }
  // An advertiser who locks postbacks to their servers' IPs must not have money approved by a key
  // that also ships inside apps: SDK and batch conversions then wait, pending, for their approval.
  // The same holds for an offer's own allowlist (the reported one or the click's).
  const allowlisted =
    key.postback_ip_allowlist.length > 0 ||
    ctx.offer.postback_ip_allowlist.length > 0 ||
    offer.postback_ip_allowlist.length > 0;
  // The offer's click-to-conversion time bounds: too fast suggests injection, too slow click spamming.
  const timing = click
    ? conversionTimeVerdict(withFraudDefaults(offer.fraud_rules), Date.now() - click.created_at)
    : null;
  // A click counted while Redis was down (replay and dedupe unchecked), or one a fraud rule holds,
  // is paid only after review.
  const held =
    (req.source !== "postback" && allowlisted) ||
    click?.unverified === true ||
    click?.hold === true ||
    timing?.action === "hold";
  let status = held && input.status === "approved" ? "pending" : input.status;
  if (timing?.action === "reject") status = "rejected";
  const id = newId("conv");
  const row: NewConversion = {
    id,
    tenant_id: offer.tenant_id,
    advertiser_id: key.advertiser_id,
    offer_id: offer.id,
    transaction_id: input.transaction_id,
    event_type: input.event_type,
    click_id: click?.click_id ?? null,
    publisher_id: click?.publisher_id ?? null,
    tracking_code: click?.tracking_code ?? null,
    click_verdict: click?.verdict ?? uncountedVerdict,
    reported_click_id: clickId,
    attribution,
    status,
    amount,
    currency: input.currency,
    payout,
    payout_currency: payoutCurrency,
    revenue_in_rollup: input.currency === offer.currency,
    payout_in_rollup: payoutCurrency === offer.currency,
    source: req.source,
    api_key_id: key.id,
    user_id: input.user_id ?? null,
    device_info: input.device_info ?? null,
    custom_params: input.custom_params ?? null,
    metadata: input.metadata ?? null,
    sdk_version: req.sdk.version,
    sdk_platform: req.sdk.platform,
  };
  // Without a paid click there is no slot to take and no fraud rule to record: such conversions of
  // concurrent requests share one statement. A batch request's own events stay one by one.
  const inserted =
    click === null && req.source !== "batch" && deps.waitUntil
      ? await insertConversionBatched(deps.db, { ...row, click_id: null }, deps.waitUntil)
      : await insertConversion(deps.db, row, {
          conversionsPerClick: click ? offer.conversions_per_click : null,
          // Event types are the caller's choice: unless the offer names the ones it pays, they share one cap.
          slotKey: offer.paid_event_types.length > 0 ? input.event_type : "*",
          fraud:
            timing && click
              ? {
                  kind: timing.kind,
                  detail: {
                    seconds: Math.round((Date.now() - click.created_at) / 1000),
                    action: timing.action,
                  },
                }
              : null,
        });
  if (!inserted) {
    throw new ApiError("DUPLICATE_TRANSACTION", `Transaction ${input.transaction_id} already processed`);
  }
  return {
    conversion_id: id,
    offer_id: offer.id,
    transaction_id: input.transaction_id,
    amount,
    currency: input.currency,
    status,
  };
}
