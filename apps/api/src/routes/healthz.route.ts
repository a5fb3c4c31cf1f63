// GET /healthz — liveness for load balancers and the local stack; touches no storage.

import type { Hono } from "hono";
import type { AppEnv } from "../context";

export function registerHealthz(app: Hono<AppEnv>): void {
  app.get("/healthz", (c) => c.json({ ok: true }));
}
