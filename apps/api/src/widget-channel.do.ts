// WidgetChannel: one Durable Object per customer, product and influencer. Widgets connect with a
// WebSocket (hibernatable: the object sleeps between events while sockets stay open); the API
// worker posts each counted event (and test events) to /notify, and the object sends it on to
// every socket, with the total of the socket's campaign when the widget is campaign-filtered.
// The highest totals are kept in the object's (SQLite-backed) storage, so they survive hibernation;
// a channel takes at most WIDGET_SOCKET_CAP sockets (default 500) and refuses more with 429.

import { errorBody, type WidgetMessage, type WidgetNotice } from "@afftrack/core";
import { SocketChannel } from "./socket-channel";
import { BestTotals } from "./widget/best-totals";

/** Sockets one channel accepts when WIDGET_SOCKET_CAP is not set. */
export const DEFAULT_WIDGET_SOCKET_CAP = 500;

interface SocketState {
  campaign: string | null;
}

export class WidgetChannel extends SocketChannel {
  /** Highest totals seen (totals only grow; notices can arrive out of order), stored. */
  private readonly best = new BestTotals(this.ctx.storage);

  private socketCap(): number {
    const n = Number.parseInt(this.env.WIDGET_SOCKET_CAP ?? "", 10);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_WIDGET_SOCKET_CAP;
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/notify" && request.method === "POST") {
      const notice = (await request.json()) as WidgetNotice;
      await this.best.load();
      const delivered = this.broadcast(notice);
      await this.best.flush();
      return Response.json({ delivered });
    }
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      if (this.ctx.getWebSockets().length >= this.socketCap()) {
        return Response.json(errorBody("RATE_LIMITED", "Too many widgets on this channel, try again later"), {
          status: 429,
          headers: { "retry-after": "30", "cache-control": "no-store" },
        });
      }
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
    return this.best.remember(key, total);
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
}
