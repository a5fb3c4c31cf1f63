// POST /api/postback-urls/{id}/deliveries/{delivery}/resend — fire a postback again.

import type { Hono } from "hono";
import type { AppEnv } from "../../../../../../context";
import { registerResendFor } from "../../../../webhooks/[id]/deliveries/[delivery]/resend.route";

export function registerPostbackUrlResend(app: Hono<AppEnv>): void {
  registerResendFor(app, "postback", "/api/postback-urls/:id/deliveries/:delivery/resend", "Postback URLs");
}
