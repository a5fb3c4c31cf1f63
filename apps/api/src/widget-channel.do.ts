// WidgetChannel: one Durable Object per customer, product and influencer. Widgets connect with a
// WebSocket (hibernatable: the object sleeps between events while sockets stay open); the API
// worker posts each counted event (and test events) to /notify, and the object sends it on to
// every socket, with the total of the socket's campaign when the widget is campaign-filtered.

import { DurableObject } from "cloudflare:workers";
import type { WidgetMessage, WidgetNotice } from "@afftrack/core";
import type { ApiEnv } from "./config";

interface SocketState {
  campaign: string | null;
}

export class WidgetChannel extends DurableObject<ApiEnv> {
  /** Highest totals seen (totals only grow); notices can arrive out of order. Lost on hibernation, harmlessly. */
  private readonly best = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    // Heartbeats are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/notify" && request.method === "POST") {
      const notice = (await request.json()) as WidgetNotice;
      return Response.json({ delivered: this.broadcast(notice) });
    }
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const campaign = url.searchParams.get("campaign") || null;
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ campaign } satisfies SocketState);
      return new Response(null, { status: 101, webSocket: client });
    }
    return new Response("Not found", { status: 404 });
  }

  /** Attachments read once per socket and wake-up (deserialising on every event costs more). */
  private readonly states = new WeakMap<WebSocket, SocketState>();

  private stateOf(ws: WebSocket): SocketState {
    let state = this.states.get(ws);
    if (!state) {
      state = (ws.deserializeAttachment() ?? { campaign: null }) as SocketState;
      this.states.set(ws, state);
    }
    return state;
  }

  private remember(key: string, total: number | null | undefined): number {
    const known = this.best.get(key) ?? 0;
    const next = Math.max(known, total ?? 0);
    this.best.set(key, next);
    return next;
  }

  private broadcast(notice: WidgetNotice): number {
    const overall = this.remember("", notice.total);
    const campaignTotals = new Map<string, number>();
    for (const [campaign, n] of Object.entries(notice.campaign_totals ?? {})) {
      campaignTotals.set(campaign, this.remember(`c:${campaign}`, n));
    }
    // One JSON text per distinct audience (everyone, or one campaign), not per socket.
    const texts = new Map<string | null, string>();
    const textFor = (campaign: string | null): string => {
      let text = texts.get(campaign);
      if (text === undefined) {
        const total =
          campaign === null ? overall : (campaignTotals.get(campaign) ?? this.remember(`c:${campaign}`, 0));
        const message: WidgetMessage = { type: "event", total, event: notice.event };
        text = JSON.stringify(message);
        texts.set(campaign, text);
      }
      return text;
    };
    let delivered = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const campaign = this.stateOf(ws).campaign;
      if (campaign !== null && notice.event.campaign !== campaign) continue;
      try {
        ws.send(textFor(campaign));
        delivered++;
      } catch {
        // A socket closing right now: its widget reconnects and reads count.json.
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
