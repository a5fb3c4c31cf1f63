// Minimal HTML pages for the visitor-facing refusals. Nothing from the request is echoed back.

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${title}</title>` +
  `<meta name="viewport" content="width=device-width,initial-scale=1"><style>body{font:16px system-ui,sans-serif;` +
  `max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style></head>` +
  `<body><h1>${title}</h1><p>${text}</p></body></html>`;

const headers = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-robots-tag": "noindex",
};

export const notFoundPage = () =>
  new Response(page("Link not found", "This tracking link does not exist or is no longer available."), {
    status: 404,
    headers,
  });

export const geoBlockedPage = () =>
  new Response(page("Not available in your region", "This offer is not available in your country."), {
    status: 403,
    headers,
  });

export const unavailablePage = () =>
  new Response(page("Offer unavailable", "This offer is paused. Please try again later."), {
    status: 410,
    headers,
  });

export const errorPage = () =>
  new Response(page("Temporarily unavailable", "Please try again in a moment."), {
    status: 503,
    headers: { ...headers, "retry-after": "5" },
  });

/** The offer's destination cannot be used (and it has no usable fallback): the click is still recorded. */
export const misconfiguredPage = () =>
  new Response(
    page("Link unavailable", "This offer's link is not set up correctly. Please try again later."),
    {
      status: 502,
      headers,
    },
  );
