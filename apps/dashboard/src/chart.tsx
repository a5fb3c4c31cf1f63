// Time series with uPlot (small, canvas, maintained): clicks and conversions per hour or day.

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: number[];
  color: string;
}

/** `times`: seconds since the epoch; `zone`: the time zone the axis is drawn in. */
export function TimeChart({
  title,
  times,
  series,
  zone,
}: {
  title: string;
  times: number[];
  series: Series[];
  zone: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, el.clientWidth || 600);
    const plot = new uPlot(
      {
        width,
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            points: { show: times.length < 40 },
          })),
        ],
        axes: [{}, { size: 50 }],
        legend: { live: false },
      },
      [times, ...series.map((s) => s.values)],
      el,
    );
    const onResize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    window.addEventListener("resize", onResize);
    return () => {
      window.removeEventListener("resize", onResize);
      plot.destroy();
    };
  }, [times, series, zone]);
  return (
    <figure class="chart" data-points={times.length}>
      <figcaption>{title}</figcaption>
      <div
        ref={box}
        role="img"
        aria-label={`${title}: ${series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`).join(", ")}`}
      />
    </figure>
  );
}

/**
 * Rows of /api/stats grouped by hour or day, as chart columns: every bucket of the answered range
 * is present (zero where the API has no row), so one click still reads as a point in time.
 */
export function toSeries(
  rows: Array<Record<string, unknown>>,
  key: "hour" | "day",
  range: { from: string; to: string; timezone: string },
): { times: number[]; rows: Array<Record<string, unknown>> } {
  const at = (k: string) => Date.parse(key === "day" ? `${k}T00:00:00Z` : k) / 1000;
  const byTime = new Map<number, Record<string, unknown>>();
  for (const r of rows) if (typeof r[key] === "string") byTime.set(at(r[key] as string), r);
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  if (Number.isFinite(from) && Number.isFinite(to) && to > from && to - from <= 400 * 86_400_000) {
    if (key === "hour") {
      for (let t = Math.floor(from / 3_600_000) * 3600; t < to / 1000; t += 3600)
        if (!byTime.has(t)) byTime.set(t, {});
    } else {
      const day = new Intl.DateTimeFormat("en-CA", {
        timeZone: range.timezone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      });
      for (let t = from; t < to; t += 3_600_000 * 6) {
        const k = at(day.format(new Date(t)));
        if (!byTime.has(k)) byTime.set(k, {});
      }
    }
  }
  const times = [...byTime.keys()].filter(Number.isFinite).sort((a, b) => a - b);
  return { times, rows: times.map((t) => byTime.get(t) ?? {}) };
}
