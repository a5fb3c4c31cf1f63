// LiveChannel: one Durable Object per tenant. Dashboards connect through `GET /api/stats/stream`
// (a WebSocket; hibernatable, so the object sleeps between events while sockets stay open); the
// consumers publish clicks and conversions after they commit, and each socket is sent only what
// its caller may see (the stats' role scoping, applied per socket).

import { DurableObject } from "cloudflare:workers";
import { type LiveEvent, type LiveMessage, type LiveScope, liveEventFor } from "@afftrack/core";
import type { ApiEnv } from "./config";
import { LIVE_SCOPE_HEADER } from "./services/live";

export class LiveChannel extends DurableObject<ApiEnv> {
  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    // Heartbeats are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  override async fetch(request: Request): Promise<Response> {
    const scope = JSON.parse(request.headers.get(LIVE_SCOPE_HEADER) ?? "null") as
      | (LiveScope & { tenant_id: string })
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
    } satisfies LiveScope);
    const hello: LiveMessage = { type: "hello", tenant_id: scope.tenant_id, role: scope.role };
    server.send(JSON.stringify(hello));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends each socket the events its caller may see; returns how many sockets got something. */
  async publish(events: LiveEvent[]): Promise<number> {
    let delivered = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const scope = ws.deserializeAttachment() as LiveScope | null;
      if (!scope) continue;
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

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") ws.send("pong");
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, "error");
    } catch {
      // already closed
    }
  }
}
