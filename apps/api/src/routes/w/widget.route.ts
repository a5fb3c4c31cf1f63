// GET /w/{customer_code}/{product}/{influencer_id}[/{campaign}] — the stream widget page, its
// machine-readable counter (`.../count.json`) and its WebSocket (`.../ws`, to the widget channel).
// Also served on `{product}-widget-{customer}.{TRACKER_HOST_SUFFIX}/{influencer_id}/{campaign}`.
// A campaign named `count.json` or `ws` cannot be shown by a widget (the names are taken).

import {
  ApiError,
  successBody,
  WidgetCampaignParamSchema,
  type WidgetCount,
  WidgetCountSchema,
  WidgetParamSchema,
  widgetStyleOf,
} from "@afftrack/core";
import { findWidget, type WidgetRecord, widgetTotals } from "@afftrack/db";
import type { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import type * as v from "valibot";
import type { AppContext, AppEnv } from "../../context";
import { isOutage } from "../../errors";
import { describe, validate } from "../../openapi/route";
import { limitWidgetClient, widgetChannelName } from "../../services/tracker";
import { renderWidgetPage, renderWidgetRetryPage } from "../../widget/page";

type WidgetParams = v.InferOutput<typeof WidgetParamSchema> & { campaign?: string };

const BASE = "/w/:customer_code/:product/:influencer_id";
const WITH_CAMPAIGN = `${BASE}/:campaign`;

async function widgetOrThrow(c: AppContext, p: WidgetParams): Promise<WidgetRecord> {
  const w = await findWidget(c.get("db")(), p.customer_code, p.product);
  if (!w) throw new ApiError("NOT_FOUND", "No such widget");
  return w;
}

async function countOf(c: AppContext, p: WidgetParams): Promise<{ w: WidgetRecord; count: WidgetCount }> {
  const w = await widgetOrThrow(c, p);
  const totals = await widgetTotals(c.get("db")(), { ...w, influencer_id: p.influencer_id });
  const campaign = p.campaign ?? null;
  return {
    w,
    count: {
      customer_code: w.customer_code,
      product: w.product_code,
      influencer_id: p.influencer_id,
      campaign,
      total: campaign === null ? totals.total : (totals.campaign_totals[campaign] ?? 0),
      goal: w.goal,
    },
  };
}

const pageDoc = describeRoute({
  tags: ["Influencer tracker"],
  summary: "Stream widget page",
  description:
    "HTML for an OBS / Streamlabs browser source: transparent, the current count in the first " +
    "response, goal bar, queued alerts, live over a WebSocket with reconnects. Query: `color`, " +
    "`accent`, `bg` (hex or named colours), `size` (10-200 px), `sound` (1/0).",
  security: [],
  responses: {
    200: { description: "The widget page", content: { "text/html": { schema: { type: "string" } } } },
    400: {
      description: "Malformed path parameter (`INVALID_PARAMS`)",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    },
    404: {
      description: "No such customer or product (`NOT_FOUND`)",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    },
    503: {
      description:
        "Database unreachable: a transparent page that waits for count.json and then reloads itself (OBS does not reload a failed page)",
      content: { "text/html": { schema: { type: "string" } } },
    },
  },
});

const countDoc = () =>
  describe({
    tag: "Influencer tracker",
    summary: "Widget counter (machine-readable)",
    description:
      "The influencer's counted events on the product (of the campaign, when given). CORS open, cached 2 s. " +
      "Rate-limited per client IP (WIDGET_LIMIT_PER_MINUTE, 429 with Retry-After).",
    auth: "none",
    response: WidgetCountSchema,
    errors: ["NOT_FOUND", "RATE_LIMITED"],
  });

const socketDoc = describeRoute({
  tags: ["Influencer tracker"],
  summary: "Widget WebSocket",
  description:
    'Upgrade to a WebSocket on the widget channel. Messages: `{type:"event", total, event}`; send ' +
    "`ping` for `pong`. Rate-limited per client IP; a channel takes at most WIDGET_SOCKET_CAP " +
    "sockets (default 500), beyond which the upgrade is refused with 429.",
  security: [],
  responses: {
    101: { description: "Switching protocols" },
    200: { description: "Never: a WebSocket upgrade is required" },
    400: {
      description: "Not a WebSocket upgrade, or a malformed path parameter (`INVALID_PARAMS`)",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    },
    404: {
      description: "No such customer or product (`NOT_FOUND`)",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    },
    429: {
      description:
        "Too many requests from the client, or the channel is full (`RATE_LIMITED`), with Retry-After",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    },
    503: {
      description: "Database unreachable (`SERVICE_UNAVAILABLE`), with Retry-After",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    },
  },
});

async function page(c: AppContext, p: WidgetParams): Promise<Response> {
  let found: Awaited<ReturnType<typeof countOf>>;
  try {
    found = await countOf(c, p);
  } catch (err) {
    if (!isOutage(err)) throw err;
    c.get("log").warn("widget page served in retry mode", { reason: "database unreachable" });
    c.header("retry-after", "5");
    c.header("cache-control", "no-store");
    c.header(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
    );
    return c.html(renderWidgetRetryPage(), 503);
  }
  const { w, count } = found;
  const html = renderWidgetPage({
    title: w.name,
    total: count.total,
    goal: w.goal,
    displayStyle: w.display_style,
    campaign: count.campaign,
    style: widgetStyleOf(c.req.query()),
  });
  c.header(
    "content-security-policy",
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:",
  );
  c.header("cache-control", "no-store");
  c.header("x-content-type-options", "nosniff");
  return c.html(html);
}

async function count(c: AppContext, p: WidgetParams): Promise<Response> {
  await limitWidgetClient(c);
  const { count: data } = await countOf(c, p);
  c.header("access-control-allow-origin", "*");
  c.header("cache-control", "public, max-age=2");
  return c.json(successBody(data));
}

async function socket(c: AppContext, p: WidgetParams): Promise<Response> {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("INVALID_PARAMS", "Expected a WebSocket upgrade");
  }
  await limitWidgetClient(c);
  const w = await widgetOrThrow(c, p);
  const namespace = c.env.WIDGET_CHANNEL;
  if (!namespace) throw new ApiError("SERVICE_UNAVAILABLE", "Widget channels are not configured");
  const stub = namespace.get(
    namespace.idFromName(widgetChannelName(w.customer_code, w.product_code, p.influencer_id)),
  );
  const url = new URL("https://widget-channel/ws");
  if (p.campaign) url.searchParams.set("campaign", p.campaign);
  return stub.fetch(url, { headers: c.req.raw.headers });
}

export function registerWidget(app: Hono<AppEnv>): void {
  // The fixed names are registered before `/:campaign` so they win.
  for (const [path, params] of [
    [BASE, WidgetParamSchema],
    [WITH_CAMPAIGN, WidgetCampaignParamSchema],
  ] as const) {
    app.get(`${path}/count.json`, countDoc(), validate("param", params), (c) =>
      count(c, c.req.valid("param")),
    );
    app.get(`${path}/ws`, socketDoc, validate("param", params), (c) => socket(c, c.req.valid("param")));
  }
  app.get(BASE, pageDoc, validate("param", WidgetParamSchema), (c) => page(c, c.req.valid("param")));
  app.get(WITH_CAMPAIGN, pageDoc, validate("param", WidgetCampaignParamSchema), (c) =>
    page(c, c.req.valid("param")),
  );
}
