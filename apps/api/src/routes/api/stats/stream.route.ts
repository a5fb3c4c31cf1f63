// GET /api/stats/stream — the live event stream over a WebSocket, from the tenant's LiveChannel.
// Browsers cannot set headers on a WebSocket, so the access token may also travel as a
// subprotocol: `new WebSocket(url, ["afftrack.live.v1", "bearer." + accessToken])`.

import { ApiError, LiveMessageSchema } from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, LIVE_PROTOCOL, requireAuth } from "../../../middleware/jwt-auth";
import { describe } from "../../../openapi/route";
import { LIVE_SCOPE_HEADER } from "../../../services/live";

export function registerStatsStream(app: Hono<AppEnv>): void {
  app.get(
    "/api/stats/stream",
    describe({
      tag: "Analytics",
      summary: "Live events (WebSocket)",
      description:
        'Upgrade to a WebSocket (`Upgrade: websocket`). The server sends `{type:"hello"}`, then `{type:"events", events:[...]}` as clicks are written and conversions are created or change status, each socket seeing only what its caller may see in the stats (publishers: their own traffic, without sale amounts). Authenticate with `Authorization: Bearer` or, from a browser, the subprotocols `afftrack.live.v1` and `bearer.<access token>`. Send `ping` to get `pong`. Events are best effort; the stats endpoints are the record.',
      auth: "jwt",
      status: 101,
      responseDescription: "Switching Protocols: the WebSocket carries the messages described above",
      response: LiveMessageSchema,
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    async (c) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new ApiError("INVALID_PARAMS", "This endpoint is a WebSocket: send Upgrade: websocket");
      }
      const ns = c.env.LIVE_CHANNEL;
      if (!ns) throw new ApiError("SERVICE_UNAVAILABLE", "Live events are not configured");
      const caller = callerOf(c);
      const scope = {
        tenant_id: caller.tenant_id,
        role: caller.role,
        advertiser_id: caller.advertiser_id ?? null,
        publisher_id: caller.publisher_id ?? null,
        // The socket lives no longer than the token that opened it.
        expires_at: c.get("tokenExpiresAt") ?? Date.now(),
      };
      const upstream = await ns.get(ns.idFromName(caller.tenant_id)).fetch("https://live/connect", {
        headers: { upgrade: "websocket", [LIVE_SCOPE_HEADER]: JSON.stringify(scope) },
      });
      if (!upstream.webSocket) throw new ApiError("SERVICE_UNAVAILABLE", "Live events unavailable");
      const offered = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      return new Response(null, {
        status: 101,
        webSocket: upstream.webSocket,
        headers: offered.includes(LIVE_PROTOCOL) ? { "sec-websocket-protocol": LIVE_PROTOCOL } : {},
      });
    },
  );
}
