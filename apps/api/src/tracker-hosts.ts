// The tracker's host forms (streamtools seed), mapped onto the path forms before routing:
//   api-tracker-{customer}.{suffix}/{access_key}          → /t/{access_key}
//   {product}-widget-{customer}.{suffix}/{influencer}/... → /w/{customer}/{product}/{influencer}/...
// The customer in the tracker host is informative: the access key alone names the customer.

const CODE = "[a-z0-9][a-z0-9_]{0,62}";

/** The request as the router should see it (the same object when no host form applies). */
export function rewriteTrackerHost(request: Request, suffix: string | undefined): Request {
  const s = (suffix ?? "")
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, "");
  if (!s) return request;
  const host = (request.headers.get("host") ?? "").toLowerCase().replace(/:\d+$/, "");
  if (!host.endsWith(`.${s}`)) return request;
  const label = host.slice(0, -(s.length + 1));
  const url = new URL(request.url);
  const tracker = new RegExp(`^api-tracker-(${CODE})$`).exec(label);
  if (tracker) {
    if (!/^\/[^/]+$/.test(url.pathname) || url.pathname.startsWith("/t/")) return request;
    url.pathname = `/t${url.pathname}`;
    return new Request(url, request);
  }
  const widget = new RegExp(`^(${CODE})-widget-(${CODE})$`).exec(label);
  if (widget && url.pathname !== "/" && !url.pathname.startsWith("/w/")) {
    url.pathname = `/w/${widget[2]}/${widget[1]}${url.pathname}`;
    return new Request(url, request);
  }
  return request;
}
