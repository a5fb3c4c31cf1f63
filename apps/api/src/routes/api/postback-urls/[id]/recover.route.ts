// POST /api/postback-urls/{id}/recover — fire again every postback that failed since a time.

import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { registerRecoverFor } from "../../webhooks/[id]/recover.route";

export function registerPostbackUrlRecover(app: Hono<AppEnv>): void {
  registerRecoverFor(app, "postback", "/api/postback-urls/:id/recover", "Postback URLs");
}
