// The redirect worker: signed tracking links, legacy links and short links. Routes only; the
// decision lives in click.ts and the pure checks in @afftrack/core. Five routes: the pattern
// router (one regular expression per route) measured fastest for them.

import { CODE_PATTERN, parseLinkToken } from "@afftrack/core";
import { type Context, Hono } from "hono";
import { PatternRouter } from "hono/router/pattern-router";
import { type ClickRequest, handleClick } from "./click";
import { type EdgeEnv, edgeConfig } from "./env";
import { notFoundPage } from "./pages";

type EdgeContext = Context<{ Bindings: EdgeEnv }>;

const app = new Hono<{ Bindings: EdgeEnv }>({ router: new PatternRouter() });

function click(c: EdgeContext, link: ClickRequest["link"]): Promise<Response> {
  return handleClick({
    request: c.req.raw,
    env: c.env,
    ctx: c.executionCtx,
    config: edgeConfig(c.env),
    link,
  });
}

function shortLink(c: EdgeContext): Promise<Response> | Response {
  const shortCode = c.req.param("short") ?? "";
  if (!CODE_PATTERN.test(shortCode)) return notFoundPage();
  return click(c, { kind: "short", shortCode });
}

app.on(["GET", "HEAD"], "/c/:token", (c) => click(c, parseLinkToken(c.req.param("token"))));
app.on(["GET", "HEAD"], "/api/c/:token", (c) => click(c, parseLinkToken(c.req.param("token"))));
app.on(["GET", "HEAD"], "/s/:short", shortLink);
app.get("/healthz", (c) => c.json({ ok: true }));
app.on(["GET", "HEAD"], "/:short", (c) => {
  const host = new URL(c.req.url).hostname.toLowerCase();
  return edgeConfig(c.env).shortHosts.has(host) ? shortLink(c) : notFoundPage();
});
app.notFound(() => notFoundPage());
app.onError((err) => {
  console.error(JSON.stringify({ msg: "edge error", error: String(err) }));
  return new Response("Temporarily unavailable", { status: 503 });
});

export default app;
