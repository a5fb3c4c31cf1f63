// The stream widget page (an OBS / Streamlabs browser source): one HTML document with its CSS and
// script inline. The current count is in the first response (no flash of zero); events arrive over
// the widget channel's WebSocket, play one alert at a time from a queue, and the page reconnects
// forever (exponential backoff, full jitter, capped at 30 s), re-reading count.json after every
// reconnect and polling it while the socket is down.

import type { WidgetStyle } from "@afftrack/core";

export interface WidgetPageModel {
  title: string;
  total: number;
  goal: number | null;
  displayStyle: "bar" | "counter" | "minimal";
  campaign: string | null;
  style: WidgetStyle;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/** JSON safe inside a <script> element: no `</script>`, no HTML comment openers, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

// The few browser APIs the widget script uses (this project compiles against the Workers types).
interface BrowserElement {
  textContent: string | null;
  offsetWidth: number;
  style: { width: string };
  classList: { add(name: string): void; remove(name: string): void };
}
interface BrowserSocket {
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
  onerror: (() => void) | null;
  send(data: string): void;
  close(): void;
}
interface BrowserAudio {
  state?: string;
  resume?(): Promise<void>;
  currentTime: number;
  destination: unknown;
  createOscillator(): {
    frequency: { value: number };
    connect(node: unknown): { connect(node: unknown): void };
    start(): void;
    stop(at: number): void;
  };
  createGain(): { gain: { value: number } };
}
interface Browser {
  document: {
    getElementById(id: string): BrowserElement | null;
    body: { setAttribute(name: string, value: string): void; removeAttribute(name: string): void };
  };
  location: { pathname: string; protocol: string; host: string };
  WebSocket?: new (url: string) => BrowserSocket;
  AudioContext?: new () => BrowserAudio;
  fetch(url: string, init: { cache: string }): Promise<{ ok: boolean; json(): Promise<unknown> }>;
  widget?: unknown;
}

/**
 * Runs in the browser (serialised with Function.prototype.toString): self-contained, no imports.
 * The page defines `__name` because bundlers that keep names (wrangler) wrap nested functions in it.
 */
function widgetScript(cfg: { total: number; goal: number | null; sound: boolean }, g: Browser): void {
  const document = g.document;
  const location = g.location;
  const countEl = document.getElementById("count") as BrowserElement;
  const barEl = document.getElementById("bar");
  const alertEl = document.getElementById("alert") as BrowserElement;
  const state = {
    total: cfg.total,
    connected: false,
    connects: 0,
    reconnects: 0,
    alertsPlayed: 0,
    polling: false,
  };
  g.widget = state;
  const base = location.pathname.replace(/\/+$/, "");
  const queue: string[] = [];
  let playing = false;

  function render(total: number): void {
    if (total < state.total) return; // totals only grow; an older answer never rolls back
    const changed = total !== state.total;
    state.total = total;
    countEl.textContent = String(total);
    if (barEl && cfg.goal) barEl.style.width = `${Math.min(100, (100 * total) / cfg.goal)}%`;
    if (changed) {
      countEl.classList.remove("pop");
      void countEl.offsetWidth;
      countEl.classList.add("pop");
    }
  }

  // One AudioContext for the page's life, made at the first sound: browsers cap how many a page
  // may hold, and each one keeps an audio thread running until it is closed.
  let audio: BrowserAudio | null = null;

  function beep(): void {
    if (!cfg.sound) return;
    try {
      const Ctx = g.AudioContext;
      if (!Ctx) return;
      if (!audio) audio = new Ctx();
      const ctx = audio;
      if (ctx.state === "suspended" && ctx.resume) ctx.resume().catch(() => undefined);
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
    } catch (_) {
      // no audio: the alert still shows
    }
  }

  function playNext(): void {
    const text = queue.shift();
    if (text === undefined) {
      playing = false;
      document.body.removeAttribute("data-alert");
      return;
    }
    playing = true;
    state.alertsPlayed++;
    alertEl.textContent = text;
    alertEl.classList.remove("show");
    void alertEl.offsetWidth;
    alertEl.classList.add("show");
    document.body.setAttribute("data-alert", String(state.alertsPlayed));
    beep();
    setTimeout(() => {
      alertEl.classList.remove("show");
      setTimeout(playNext, 250);
    }, 2200);
  }

  function enqueue(text: string): void {
    if (queue.length < 50) queue.push(text);
    if (!playing) playNext();
  }

  async function refresh(): Promise<void> {
    try {
      const res = await g.fetch(`${base}/count.json`, { cache: "no-store" });
      if (!res.ok) return;
      const body = (await res.json()) as { data?: { total?: number } };
      if (body.data && typeof body.data.total === "number") render(body.data.total);
    } catch (_) {
      // offline: the next poll or reconnect tries again
    }
  }

  let pollTimer: ReturnType<typeof setInterval> | undefined;
  function startPolling(): void {
    if (pollTimer) return;
    state.polling = true;
    pollTimer = setInterval(refresh, 5000);
  }
  function stopPolling(): void {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = undefined;
    state.polling = false;
  }

  let failures = 0;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  function connect(): void {
    const Socket = g.WebSocket;
    if (!Socket) {
      startPolling();
      return;
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let ws: BrowserSocket;
    try {
      ws = new Socket(`${proto}//${location.host}${base}/ws`);
    } catch (_) {
      scheduleReconnect();
      return;
    }
    let lastPong = Date.now();
    ws.onopen = () => {
      state.connected = true;
      state.connects++;
      if (state.connects > 1) state.reconnects++;
      failures = 0;
      attempt = 0;
      stopPolling();
      refresh(); // events may have arrived while the socket was down
      heartbeat = setInterval(() => {
        if (Date.now() - lastPong > 45_000) ws.close();
        else ws.send("ping");
      }, 15_000);
    };
    ws.onmessage = (e) => {
      if (e.data === "pong") {
        lastPong = Date.now();
        return;
      }
      try {
        const msg = JSON.parse(String(e.data)) as {
          type: string;
          total?: number;
          event?: { event_name?: string | null; event_type?: string | null; test?: boolean };
        };
        if (msg.type !== "event") return;
        if (typeof msg.total === "number") render(msg.total);
        const ev = msg.event ?? {};
        const label = ev.event_name || ev.event_type || "New event";
        enqueue(ev.test ? `Test: ${label}` : `+1 ${label}`);
      } catch (_) {
        // not ours
      }
    };
    ws.onclose = () => {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      const wasConnected = state.connected;
      state.connected = false;
      if (!wasConnected) failures++;
      scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows
    };
  }

  let attempt = 0;
  function scheduleReconnect(): void {
    if (failures >= 2) startPolling();
    // Full jitter: a random wait up to the exponential step (0.5 s, 1 s, 2 s, ...), capped at 30 s.
    const cap = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
    attempt++;
    setTimeout(connect, Math.random() * cap);
  }

  connect();
}

export function renderWidgetPage(m: WidgetPageModel): string {
  const s = m.style;
  const cfg = { total: m.total, goal: m.goal, sound: s.sound };
  const showBar = m.displayStyle === "bar" && m.goal !== null;
  const pct = m.goal ? Math.min(100, (100 * m.total) / m.goal) : 0;
  const scale = m.displayStyle === "minimal" ? 0.6 : m.displayStyle === "counter" ? 1.6 : 1;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(m.title)}</title>
<style>
html,body{background:${s.background};margin:0 auto;overflow:hidden;height:100%}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:${s.color};display:flex;align-items:center;justify-content:center}
.w{text-align:center;width:min(90vw,${Math.round(s.size * 16)}px);text-shadow:0 2px 6px rgba(0,0,0,.6)}
.t{font-size:${Math.round(s.size * 0.45 * Math.max(scale, 0.8))}px;font-weight:600;opacity:.9}
#count{display:inline-block;font-size:${Math.round(s.size * scale)}px;font-weight:800;line-height:1.1}
#count.pop{animation:pop .6s ease-out}
@keyframes pop{0%{transform:scale(1)}40%{transform:scale(1.35)}100%{transform:scale(1)}}
.g{font-size:${Math.round(s.size * 0.35)}px;opacity:.85}
.track{height:${Math.max(6, Math.round(s.size * 0.3))}px;border-radius:999px;background:rgba(255,255,255,.25);overflow:hidden;margin-top:.3em}
#bar{height:100%;width:${pct}%;background:${s.accent};transition:width .8s ease}
#alert{font-size:${Math.round(s.size * 0.5)}px;font-weight:700;color:${s.accent};opacity:0;transform:translateY(30%);min-height:1.3em}
#alert.show{animation:alert 2.2s ease-out forwards}
@keyframes alert{0%{opacity:0;transform:translateY(30%)}12%{opacity:1;transform:none}85%{opacity:1}100%{opacity:0}}
</style></head>
<body data-style="${m.displayStyle}">
<div class="w">
${m.displayStyle === "minimal" ? "" : `<div class="t">${escapeHtml(m.title)}${m.campaign ? ` · ${escapeHtml(m.campaign)}` : ""}</div>`}
<div id="count">${m.total}</div>
${m.goal !== null && m.displayStyle !== "minimal" ? `<div class="g">Goal ${m.goal}</div>` : ""}
${showBar ? `<div class="track"><div id="bar"></div></div>` : ""}
<div id="alert" aria-live="polite"></div>
</div>
<script>var __name=function(f){return f};(${widgetScript.toString()})(${scriptJson(cfg)}, window);</script>
</body></html>`;
}

/**
 * Served instead of the widget while Postgres is unreachable (with 503): OBS does not reload a
 * page that failed, so this one waits (backoff with full jitter, capped at 30 s) until count.json
 * answers and then reloads itself into the real widget.
 */
export function renderWidgetRetryPage(): string {
  const script = `(function(){var n=0;function later(){setTimeout(tryIt,Math.random()*Math.min(30000,1000*Math.pow(2,n++)))}
function tryIt(){fetch(location.pathname.replace(/\\/+$/,"")+"/count.json",{cache:"no-store"}).then(function(r){if(r.ok)location.reload();else later()},later)}
later()})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Widget</title>
<style>html,body{background:transparent;margin:0 auto;overflow:hidden}</style></head>
<body data-retrying="1"><script>${script}</script></body></html>`;
}
