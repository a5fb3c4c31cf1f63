// The redirect worker: signed tracking links, legacy links and short links. Routes only; the
// decision lives in click.ts and the pure checks in @afftrack/core.

import { parseLinkToken } from "@afftrack/core";
import { Hono } from "hono";
import { handleClick } from "./click";
import { type EdgeEnv, edgeConfig } from "./env";
import { notFoundPage } from "./pages";

const app = new Hono<{ Bindings: EdgeEnv }>();

const tokenRoute = (c: {
  req: { raw: Request; param(name: "token"): string };
  env: EdgeEnv;
  executionCtx: ExecutionContext;
}) =>
  handleClick({
    request: c.req.raw,
    env: c.env,
    ctx: c.executionCtx,
    config: edgeConfig(c.env),
    link: parseLinkToken(c.req.param("token")),
  });

app.on(["GET", "HEAD"], "/c/:token", (c) => tokenRoute(c));
app.on(["GET", "HEAD"], "/api/c/:token", (c) => tokenRoute(c));
app.on(["GET", "HEAD"], "/s/:short{[A-Za-z0-9_-]{3,64}}", (c) =>
  handleClick({
    request: c.req.raw,
    env: c.env,
    ctx: c.executionCtx,
    config: edgeConfig(c.env),
    link: { kind: "short", shortCode: c.req.param("short") },
  }),
);
app.get("/healthz", (c) => c.json({ ok: true }));
app.on(["GET", "HEAD"], "/:short{[A-Za-z0-9_-]{3,64}}", (c) => {
  const config = edgeConfig(c.env);
  const host = new URL(c.req.url).hostname.toLowerCase();
  if (!config.shortHosts.has(host)) return notFoundPage();
  return handleClick({
    request: c.req.raw,
    env: c.env,
    ctx: c.executionCtx,
    config,
    link: { kind: "short", shortCode: c.req.param("short") },
  });
});
app.notFound(() => notFoundPage());
app.onError((err) => {
  console.error(JSON.stringify({ msg: "edge error", error: String(err) }));
  return new Response("Temporarily unavailable", { status: 503 });
});

export default app;
