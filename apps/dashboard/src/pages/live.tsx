// The live feed: clicks and conversions pushed by GET /api/stats/stream (WebSocket), newest first,
// with a per-minute chart seeded from /api/stats/live. Reconnects by itself.

import { useEffect, useMemo, useState } from "preact/hooks";
import { api, liveSocket, unwrap } from "../api";
import { TimeChart } from "../chart";
import { Empty, Show, useLoad } from "../ui";

type LiveEvent = Record<string, unknown> & { type: "click" | "conversion"; at: number };
interface Minute {
  minute: string;
  clicks: number;
  conversions: number;
}

export function LivePage() {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [state, setState] = useState<"connecting" | "live" | "offline">("connecting");
  const [minutes] = useLoad(
    async () => ((await unwrap(api.GET("/api/stats/live", {}))) as { minutes: Minute[] }).minutes,
    [],
  );
  useEffect(() => {
    let socket: WebSocket | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    const connect = async () => {
      socket = await liveSocket().catch(() => null);
      if (!socket || stopped) {
        socket?.close();
        return;
      }
      socket.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as { type: string; events?: LiveEvent[] };
        if (msg.type === "hello") {
          setState("live");
          delay = 1000;
        }
        if (msg.type === "events" && msg.events) {
          const batch = msg.events;
          setEvents((prev) => [...batch.slice().reverse(), ...prev].slice(0, 200));
        }
      };
      socket.onclose = () => {
        if (stopped) return;
        setState("offline");
        retry = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30_000);
      };
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    };
  }, []);
  return (
    <section>
      <div class="page-head">
        <h1>Live feed</h1>
        <span class={`badge ${state === "live" ? "active" : "paused"}`} data-live-state={state} role="status">
          {state}
        </span>
      </div>
      <Show value={minutes}>{(m) => <LiveChart minutes={m} events={events} />}</Show>
      {events.length === 0 ? (
        <Empty>
          Waiting for clicks and conversions. Open one of your signed links in another tab to see it here.
        </Empty>
      ) : (
        <ol class="feed" aria-label="Latest events">
          {events.map((e) => (
            <li
              key={`${e.type}-${String(e.click_id ?? e.conversion_id)}-${e.at}-${String(e.status ?? "")}`}
              data-event={e.type}
            >
              <time>{new Date(e.at).toLocaleTimeString()}</time>{" "}
              {e.type === "click" ? (
                <>
                  <strong>click</strong> <code>{String(e.click_id)}</code> {String(e.verdict)} · offer{" "}
                  {String(e.offer_id)}
                  {e.country ? ` · ${String(e.country)}` : ""}
                  {e.device ? ` · ${String(e.device)}` : ""}
                </>
              ) : (
                <>
                  <strong>conversion {String(e.change)}</strong> <code>{String(e.conversion_id)}</code>{" "}
                  {String(e.status)} · payout {String(e.payout)} {String(e.payout_currency)}
                </>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function LiveChart({ minutes, events }: { minutes: Minute[]; events: LiveEvent[] }) {
  const data = useMemo(() => {
    const per = new Map<number, { clicks: number; conversions: number }>();
    for (const m of minutes)
      per.set(Date.parse(m.minute) / 1000, { clicks: m.clicks, conversions: m.conversions });
    // Events that arrived since the page opened and are newer than the seeded minutes.
    const seededUntil = Math.max(0, ...per.keys());
    for (const e of events) {
      const t = Math.floor(e.at / 60_000) * 60;
      if (t < seededUntil) continue;
      const b = per.get(t) ?? { clicks: 0, conversions: 0 };
      if (e.type === "click") b.clicks++;
      else if (e.change === "created") b.conversions++;
      per.set(t, b);
    }
    const times = [...per.keys()].sort((a, b) => a - b);
    return {
      times,
      series: [
        { label: "Clicks", color: "#2563eb", values: times.map((t) => per.get(t)?.clicks ?? 0) },
        { label: "Conversions", color: "#c2410c", values: times.map((t) => per.get(t)?.conversions ?? 0) },
      ],
    };
  }, [minutes, events]);
  if (data.times.length === 0) return null;
  return (
    <TimeChart
      title="Per minute, last hour"
      times={data.times}
      series={data.series}
      zone={Intl.DateTimeFormat().resolvedOptions().timeZone}
    />
  );
}
