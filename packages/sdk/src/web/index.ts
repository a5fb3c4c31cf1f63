// The web tracking script (the seed's afftok.min.js role), built to an IIFE by `pnpm sdk:build`.
// On a landing page it takes the `click_id` that the tracking link's destination template put in
// the URL (`?click_id={click_id}`), keeps it first-party (a cookie and localStorage, for the offer's
// attribution window), and reports conversions attributed to it.
//
// A browser cannot hold an API key or a signing secret: anyone could read it from the page and
// sign conversions. So the script posts to the advertiser's own endpoint (`data-endpoint`, same
// site), which adds what only the server knows (offer, key, real order amount) and relays the
// conversion to POST /api/sdk/conversion with the server SDK (`relayWebConversion`). The browser
// can only point at its click; the server decides what it is worth (amount, event type, status:
// `pending` by default), since anyone can post to that endpoint.

export interface WebConfig {
  /** The advertiser's relay endpoint (default `/afftrack/conversion`). */
  endpoint: string;
  /** Days a click_id is kept: the offer's attribution window (default 30). */
  attributionDays: number;
  /** The landing URL's query parameter holding the click id (default `click_id`). */
  param: string;
}

export interface WebConversion {
  transaction_id: string;
  amount?: number;
  currency?: string;
  event_type?: string;
  metadata?: Record<string, string | number | boolean | null>;
}

const STORE_KEY = "afftrack_click";
const COOKIE = "afftrack_click_id";
const CLICK_ID = /^clk_[0-9a-z]{9}[0-9A-Za-z]{14}$/;

const config: WebConfig = { endpoint: "/afftrack/conversion", attributionDays: 30, param: "click_id" };

function readCookie(): string | null {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(`${COOKIE}=`));
  if (!hit) return null;
  try {
    return decodeURIComponent(hit.slice(COOKIE.length + 1));
  } catch {
    return null; // not percent-encoding we wrote (another script, a tampered value): ignore it
  }
}

function remember(clickId: string, now = Date.now()): void {
  const maxAge = Math.round(config.attributionDays * 86_400);
  const secure = location.protocol === "https:" ? "; Secure" : "";
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing from Safari and Firefox
  document.cookie = `${COOKIE}=${encodeURIComponent(clickId)}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ id: clickId, exp: now + maxAge * 1000 }));
  } catch {
    // Storage can be disabled (private mode, policies): the cookie still holds it.
  }
}

/** The remembered click id: the URL's first, then the cookie, then localStorage (if unexpired). */
export function getClickId(): string | null {
  const fromUrl = new URLSearchParams(location.search).get(config.param);
  if (fromUrl && CLICK_ID.test(fromUrl)) return fromUrl;
  const fromCookie = readCookie();
  if (fromCookie && CLICK_ID.test(fromCookie)) return fromCookie;
  try {
    const stored = JSON.parse(localStorage.getItem(STORE_KEY) ?? "null") as {
      id?: string;
      exp?: number;
    } | null;
    if (stored?.id && CLICK_ID.test(stored.id) && (stored.exp ?? 0) > Date.now()) return stored.id;
  } catch {
    // unreadable storage: no click
  }
  return null;
}

/** Reads the click id from the landing URL and keeps it; call again after changing the config. */
export function init(overrides: Partial<WebConfig> = {}): string | null {
  Object.assign(config, overrides);
  const fromUrl = new URLSearchParams(location.search).get(config.param);
  if (fromUrl && CLICK_ID.test(fromUrl)) remember(fromUrl);
  return getClickId();
}

/** Reports a conversion of the remembered click to the relay; resolves to the relay's JSON answer. */
export async function conversion(event: WebConversion): Promise<unknown> {
  const response = await fetch(config.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...event, click_id: getClickId() }),
    credentials: "same-origin",
    keepalive: true,
  });
  return response.json();
}

/** Forgets the click (e.g. after the conversion that ends the attribution). */
export function clear(): void {
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing from Safari and Firefox
  document.cookie = `${COOKIE}=; Max-Age=0; Path=/`;
  try {
    localStorage.removeItem(STORE_KEY);
  } catch {
    // nothing stored
  }
}
