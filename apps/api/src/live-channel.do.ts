// LiveChannel: one Durable Object per tenant. Dashboards connect through `GET /api/stats/stream`
// (a WebSocket; hibernatable, so the object sleeps between events while sockets stay open); the
// consumers publish clicks and conversions after they commit, and each socket is sent only what
// its caller may see (the stats' role scoping, applied per socket).

import { type LiveEvent, type LiveMessage, type LiveScope, liveEventFor } from "@afftrack/core";
import { LIVE_SCOPE_HEADER } from "./services/live";
import { SocketChannel } from "./socket-channel";

interface SocketScope extends LiveScope {
  /** The access token's expiry (ms since the epoch). */
  expires_at: number;
}

export class LiveChannel extends SocketChannel {
  override async fetch(request: Request): Promise<Response> {
    const scope = JSON.parse(request.headers.get(LIVE_SCOPE_HEADER) ?? "null") as
      | (LiveScope & { tenant_id: string; expires_at: number })
      | null;
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !scope) {
      return new Response("Expected a WebSocket upgrade", { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({
      role: scope.role,
      advertiser_id: scope.advertiser_id,
      publisher_id: scope.publisher_id,
      expires_at: scope.expires_at,
    } satisfies SocketScope);
    const hello: LiveMessage = { type: "hello", tenant_id: scope.tenant_id, role: scope.role };
    server.send(JSON.stringify(hello));
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends each socket the events its caller may see; returns how many sockets got something. A
   * socket whose access token has expired is closed (4401) instead: its dashboard reconnects with a
   * fresh token, so a logged-out or demoted user stops receiving events within a token's lifetime.
   */
  async publish(events: LiveEvent[], now = Date.now()): Promise<number> {
    let delivered = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const scope = ws.deserializeAttachment() as SocketScope | null;
      if (!scope) continue;
      if (scope.expires_at <= now) {
        try {
          ws.close(4401, "access token expired");
        } catch {
          // already closing
        }
        continue;
      }
      const visible = events.map((e) => liveEventFor(scope, e)).filter((e): e is LiveEvent => e !== null);
      if (visible.length === 0) continue;
      const message: LiveMessage = { type: "events", events: visible };
      try {
        ws.send(JSON.stringify(message));
        delivered++;
      } catch {
        // A socket closing right now: its dashboard reconnects and reloads the stats.
      }
    }
    return delivered;
  }
}
