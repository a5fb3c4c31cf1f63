// Shared pieces: the loader hook, error and empty states, KPI cards, tables, copy buttons and the
// time zone + date range picker whose choice every stats call uses.

import type { ComponentChildren } from "preact";
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useState } from "preact/hooks";
import { ApiFailure, api, onSession, unwrap } from "./api";

export interface Range {
  /** Rolling or to-date interval, or "custom" with from/to local dates. */
  interval: "24h" | "7d" | "30d" | "90d" | "mtd" | "qtd" | "ytd" | "custom";
  from: string;
  to: string;
  timezone: string;
}

export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export const RangeContext = createContext<{ range: Range; setRange: (r: Range) => void }>({
  range: { interval: "7d", from: "", to: "", timezone: browserZone },
  setRange: () => undefined,
});

export function useRange() {
  return useContext(RangeContext);
}

/** The query of /api/stats for the chosen range. */
export function rangeQuery(r: Range): Record<string, string> {
  return r.interval === "custom" && r.from && r.to
    ? { from: r.from, to: r.to, timezone: r.timezone }
    : { interval: r.interval === "custom" ? "7d" : r.interval, timezone: r.timezone };
}

/** Today's local date (YYYY-MM-DD) in a time zone. */
export function localDate(tz: string, at = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(at);
}

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; error: ApiFailure }
  | { state: "ok"; data: T };

/** Runs `fn` when `deps` change; `reload` runs it again (after a create, an update...). */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: "loading" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    fn().then(
      (data) => live && setValue({ state: "ok", data }),
      (err) => live && setValue({ state: "error", error: asFailure(err) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return [value, useCallback(() => setTick((t) => t + 1), [])];
}

/** A keyset-paged list as the API gives it: newest first, `next_cursor` null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PagedList<T> {
  items: T[];
  /** Another page exists after the rows shown. */
  more: boolean;
  loadingMore: boolean;
  moreError: ApiFailure | null;
  loadMore: () => void;
}

/**
 * The first page when `deps` change; `loadMore` appends the next one (the API's cursor), so a list
 * of any length can be walked 100 rows at a time. `reload` starts again from the first page.
 */
export function usePaged<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  deps: unknown[],
): [Loaded<PagedList<T>>, () => void] {
  const [first, reload] = useLoad(() => fetchPage(undefined), deps);
  // Pages after the first, valid only for the first page they followed: when the list starts over
  // (another filter, a reload) they are dropped, also one still loading.
  const [extra, setExtra] = useState<{ after: Page<T> | null; items: T[]; cursor: string | null }>({
    after: null,
    items: [],
    cursor: null,
  });
  const [loading, setLoading] = useState<Page<T> | null>(null);
  const [failed, setFailed] = useState<{ after: Page<T>; error: ApiFailure } | null>(null);
  if (first.state !== "ok") return [first, reload];
  const base = first.data;
  const more = extra.after === base ? extra : { after: base, items: [] as T[], cursor: base.next_cursor };
  const loadingMore = loading === base;
  const loadMore = () => {
    const cursor = more.cursor;
    if (!cursor || loadingMore) return;
    setLoading(base);
    setFailed(null);
    fetchPage(cursor).then(
      (page) => {
        setExtra((e) => {
          const prior = e.after === base ? e.items : [];
          return { after: base, items: [...prior, ...page.items], cursor: page.next_cursor };
        });
        setLoading((l) => (l === base ? null : l));
      },
      (err) => {
        setFailed({ after: base, error: asFailure(err) });
        setLoading((l) => (l === base ? null : l));
      },
    );
  };
  return [
    {
      state: "ok",
      data: {
        items: [...base.items, ...more.items],
        more: Boolean(more.cursor),
        loadingMore,
        moreError: failed?.after === base ? failed.error : null,
        loadMore,
      },
    },
    reload,
  ];
}

/** The "Load more" button under a paged table, with the count shown so far. */
export function LoadMore({ list, noun }: { list: PagedList<unknown>; noun: string }) {
  return (
    <div class="load-more">
      <span class="muted" data-row-count={list.items.length}>
        {fmt(list.items.length)} {noun} shown{list.more ? "" : " (all)"}
      </span>
      {list.more && (
        <button
          type="button"
          class="secondary"
          onClick={list.loadMore}
          disabled={list.loadingMore}
          aria-busy={list.loadingMore}
        >
          {list.loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
      {list.moreError && <ErrorBox error={list.moreError} />}
    </div>
  );
}

export function asFailure(err: unknown): ApiFailure {
  return err instanceof ApiFailure
    ? err
    : new ApiFailure(String((err as Error)?.message ?? err), "CLIENT", 0, null);
}

export function ErrorBox({ error }: { error: ApiFailure }) {
  return (
    <div class="error" role="alert">
      <strong>{error.message}</strong>
      <span class="muted">
        {" "}
        {error.code}
        {error.status ? ` · HTTP ${error.status}` : ""}
        {error.requestId ? ` · request id ${error.requestId}` : ""}
      </span>
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Show<T>({ value, children }: { value: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (value.state === "loading")
    return (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    );
  if (value.state === "error") return <ErrorBox error={value.error} />;
  return <>{children(value.data)}</>;
}

export function Kpi({
  label,
  value,
  previous,
}: {
  label: string;
  value: number | null;
  previous?: number | null;
}) {
  let delta: string | null = null;
  let cls = "";
  if (previous !== undefined && previous !== null && value !== null) {
    if (previous === 0) delta = value === 0 ? "±0%" : "new";
    else {
      const pct = ((value - previous) / previous) * 100;
      delta = `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
      cls = pct >= 0 ? "up" : "down";
    }
  }
  return (
    <div class="kpi" data-kpi={label}>
      <div class="kpi-label">{label}</div>
      <div class="kpi-value">{value === null ? "—" : fmt(value)}</div>
      {delta !== null && (
        <div class={`kpi-delta ${cls}`}>
          {delta} <span class="muted">vs {fmt(previous ?? 0)}</span>
        </div>
      )}
    </div>
  );
}

export function fmt(n: number): string {
  return Number.isInteger(n)
    ? n.toLocaleString("en-US")
    : n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** Money per currency, as the API gives it (exact decimal strings). */
export function money(m: Record<string, string> | undefined): string {
  const parts = Object.entries(m ?? {}).map(([cur, amount]) => `${amount} ${cur}`);
  return parts.length ? parts.join(" + ") : "0";
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="small"
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => undefined);
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

export function Table({
  head,
  rows,
  caption,
}: {
  head: string[];
  rows: ComponentChildren[][];
  caption: string;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((cell, j) => (
                <td key={j}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
})();

export function RangePicker() {
  const { range, setRange } = useRange();
  return (
    <form class="range" onSubmit={(e) => e.preventDefault()} aria-label="Date range and time zone">
      <label>
        Range
        <select
          aria-label="Range"
          value={range.interval}
          onChange={(e) =>
            setRange({ ...range, interval: (e.target as HTMLSelectElement).value as Range["interval"] })
          }
        >
          <option value="24h">Last 24 hours</option>
          <option value="7d">Last 7 days</option>
          <option value="30d">Last 30 days</option>
          <option value="90d">Last 90 days</option>
          <option value="mtd">Month to date</option>
          <option value="qtd">Quarter to date</option>
          <option value="ytd">Year to date</option>
          <option value="custom">Custom dates</option>
        </select>
      </label>
      {range.interval === "custom" && (
        <>
          <label>
            From
            <input
              type="date"
              value={range.from}
              onChange={(e) => setRange({ ...range, from: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            To
            <input
              type="date"
              value={range.to}
              onChange={(e) => setRange({ ...range, to: (e.target as HTMLInputElement).value })}
            />
          </label>
        </>
      )}
      <label>
        Time zone
        <select
          aria-label="Time zone"
          value={range.timezone}
          onChange={(e) => setRange({ ...range, timezone: (e.target as HTMLSelectElement).value })}
        >
          {(ZONES.includes(range.timezone) ? ZONES : [range.timezone, ...ZONES]).map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

/** The chosen range as UTC instants (for endpoints that take from/to only, like the CSV exports). */
export function rangeInstants(r: Range, now = new Date()): { from: string; to: string } {
  if (r.interval === "custom" && r.from && r.to) return { from: r.from, to: r.to };
  const day = 86_400_000;
  const back: Record<string, number> = { "24h": day, "7d": 7 * day, "30d": 30 * day, "90d": 90 * day };
  let from: Date;
  if (r.interval in back) from = new Date(now.getTime() - (back[r.interval] ?? 7 * day));
  else {
    const month =
      r.interval === "mtd"
        ? now.getUTCMonth()
        : r.interval === "qtd"
          ? now.getUTCMonth() - (now.getUTCMonth() % 3)
          : 0;
    from = new Date(Date.UTC(now.getUTCFullYear(), month, 1));
  }
  return { from: from.toISOString(), to: now.toISOString() };
}

let offerNamesCache: Promise<Map<string, string>> | null = null;
// Another user (or none) after a login or logout: their offers differ.
onSession((s) => {
  if (!s) offerNamesCache = null;
});

/** Offer names by id (the caller's visible offers), fetched once per page load. */
export function useOfferNames(): Map<string, string> {
  const [names, setNames] = useState(new Map<string, string>());
  useEffect(() => {
    offerNamesCache ??= unwrap(api.GET("/api/offers", { params: { query: { limit: "100" } as never } }))
      .then(
        (r) =>
          new Map((r as { items: Array<{ id: string; name: string }> }).items.map((o) => [o.id, o.name])),
      )
      .catch(() => {
        offerNamesCache = null;
        return new Map<string, string>();
      });
    let live = true;
    void offerNamesCache.then((m) => live && setNames(m));
    return () => {
      live = false;
    };
  }, []);
  return names;
}
