// The tracker's host forms (streamtools seed), mapped onto the path forms before routing:
//   api-tracker-{customer}.{suffix}/{access_key}          → /t/{access_key}
//   {product}-widget-{customer}.{suffix}/{influencer}/... → /w/{customer}/{product}/{influencer}/...
// Those hosts serve nothing else: on the tracker host only `/` and `/{access_key}`, on a widget
// host only the widget's paths (page, count.json, ws); anything else is 404 without reaching the
// router, so the management API is never served there. The tracker host's customer must be the
// access key's (the route checks it with trackerHostCustomerOf; a mismatch is an unknown key).

import { errorBody } from "@afftrack/core";

const CODE = "[a-z0-9][a-z0-9_]{0,62}";
const TRACKER = new RegExp(`^api-tracker-(${CODE})$`);
const WIDGET = new RegExp(`^(${CODE})-widget-(${CODE})$`);
/** `/{influencer}`, `/{influencer}/{campaign}`, either followed by `/count.json` or `/ws`. */
const WIDGET_PATH = /^\/[^/]+(?:\/[^/]+)?(?:\/(?:count\.json|ws))?$/;

const hostCustomers = new WeakMap<Request, string>();

/** The customer code of the tracker host the request came in on, if it did. */
export function trackerHostCustomerOf(request: Request): string | undefined {
  return hostCustomers.get(request);
}

function notServed(): Response {
  return Response.json(errorBody("NOT_FOUND", "No such endpoint"), {
    status: 404,
    headers: { "cache-control": "no-store" },
  });
}

/**
 * The request as the router should see it (the same object when no host form applies), or a 404
 * for a path a tracker or widget host does not serve.
 */
export function rewriteTrackerHost(request: Request, suffix: string | undefined): Request | Response {
  const s = (suffix ?? "")
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, "");
  if (!s) return request;
  const host = (request.headers.get("host") ?? "").toLowerCase().replace(/:\d+$/, "");
  if (!host.endsWith(`.${s}`)) return request;
  const label = host.slice(0, -(s.length + 1));
  const url = new URL(request.url);
  const tracker = TRACKER.exec(label);
  if (tracker) {
    if (url.pathname === "/") return request;
    if (!/^\/[^/]+$/.test(url.pathname)) return notServed();
    url.pathname = `/t${url.pathname}`;
    const rewritten = new Request(url, request);
    hostCustomers.set(rewritten, tracker[1] as string);
    return rewritten;
  }
  const widget = WIDGET.exec(label);
  if (widget) {
    // The influencer id cannot be `count.json` or `ws` on a widget host (those names are taken).
    if (!WIDGET_PATH.test(url.pathname) || /^\/(?:count\.json|ws)(?:\/|$)/.test(url.pathname)) {
      return notServed();
    }
    url.pathname = `/w/${widget[2]}/${widget[1]}${url.pathname}`;
    return new Request(url, request);
  }
  return request;
}
