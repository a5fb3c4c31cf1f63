// POST /api/postback-urls/{id}/rotate — a new secret for `{signature}` (postbacks sign with the
// newest secret only: a URL carries one signature).

import { RotatedPostbackUrlSchema } from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { registerRotateFor } from "../../webhooks/[id]/rotate.route";

export function registerPostbackUrlRotate(app: Hono<AppEnv>): void {
  registerRotateFor(
    app,
    "postback",
    "/api/postback-urls/:id/rotate",
    "Postback URLs",
    RotatedPostbackUrlSchema,
  );
}
