// Fraud: the share of clicks not counted, verdicts over time, by publisher, by sub1, top sources,
// and the latest fraud events.

import { useMemo } from "preact/hooks";
import { api, unwrap } from "../api";
import { TimeChart } from "../chart";
import {
  Empty,
  fmt,
  LoadMore,
  type Page,
  RangePicker,
  rangeQuery,
  Show,
  Table,
  useLoad,
  usePaged,
  useRange,
} from "../ui";

type Bucket = Record<string, unknown> & {
  clicks: number;
  valid_clicks: number;
  fraud_clicks: number;
  filtered_share: number | null;
  by_verdict: Record<string, number>;
};
interface Fraud {
  totals: Bucket;
  over_time: Bucket[];
  by_publisher: Bucket[];
  by_sub1: Bucket[];
  top_sources: Bucket[];
}

const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
const nameOf = (b: Bucket) =>
  String(Object.entries(b).find(([k, v]) => typeof v === "string" && k !== "filtered_share")?.[1] ?? "—");

function BucketTable({ title, rows }: { title: string; rows: Bucket[] }) {
  return (
    <section>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <Empty>No clicks in this range.</Empty>
      ) : (
        <Table
          caption={title}
          head={["", "Clicks", "Fraud", "Not counted"]}
          rows={rows
            .slice(0, 10)
            .map((b) => [nameOf(b), fmt(b.clicks), fmt(b.fraud_clicks), pct(b.filtered_share)])}
        />
      )}
    </section>
  );
}

export function FraudPage() {
  const { range } = useRange();
  const [data] = useLoad(
    () =>
      unwrap(
        api.GET("/api/stats/fraud", { params: { query: rangeQuery(range) as never } }),
      ) as Promise<Fraud>,
    [range],
  );
  const [events] = usePaged(
    async (cursor) =>
      (await unwrap(
        api.GET("/api/fraud-events", {
          params: { query: { limit: "50", ...(cursor ? { cursor } : {}) } as never },
        }),
      )) as Page<{
        id: string;
        kind: string;
        click_id: string | null;
        offer_id: string | null;
        created_at: string;
      }>,
    [],
  );
  return (
    <section>
      <div class="page-head">
        <h1>Fraud</h1>
        <RangePicker />
      </div>
      <Show value={data}>
        {(f) => (
          <>
            <div class="kpi-grid">
              <div class="kpi">
                <div class="kpi-label">Clicks</div>
                <div class="kpi-value">{fmt(f.totals.clicks)}</div>
              </div>
              <div class="kpi">
                <div class="kpi-label">Fraud clicks</div>
                <div class="kpi-value">{fmt(f.totals.fraud_clicks)}</div>
              </div>
              <div class="kpi">
                <div class="kpi-label">Not counted</div>
                <div class="kpi-value">{pct(f.totals.filtered_share)}</div>
              </div>
            </div>
            <FraudChart rows={f.over_time} zone={range.timezone} />
            <p class="muted">
              Verdicts:{" "}
              {Object.entries(f.totals.by_verdict)
                .map(([k, v]) => `${k} ${fmt(v)}`)
                .join(" · ") || "none yet"}
            </p>
            <div class="two-col">
              <BucketTable title="By publisher" rows={f.by_publisher} />
              <BucketTable title="By sub1" rows={f.by_sub1} />
            </div>
            <BucketTable title="Top sources" rows={f.top_sources} />
          </>
        )}
      </Show>
      <section>
        <h2>Latest fraud events</h2>
        <Show value={events}>
          {(paged) =>
            paged.items.length === 0 ? (
              <Empty>
                No fraud events. Tighten an offer's fraud rules (Offers → Edit) to flag or hold suspicious
                clicks.
              </Empty>
            ) : (
              <>
                <Table
                  caption="Latest fraud events"
                  head={["When", "Kind", "Click", "Offer"]}
                  rows={paged.items.map((e) => [
                    new Date(e.created_at).toLocaleString(),
                    e.kind,
                    e.click_id ?? "—",
                    e.offer_id ?? "—",
                  ])}
                />
                <LoadMore list={paged} noun="fraud events" />
              </>
            )
          }
        </Show>
      </section>
    </section>
  );
}

function FraudChart({ rows, zone }: { rows: Bucket[]; zone: string }) {
  const data = useMemo(() => {
    const points = rows
      .map((r) => {
        const key = Object.values(r).find((v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v)) as
          | string
          | undefined;
        return { t: key ? Date.parse(key.length === 10 ? `${key}T00:00:00Z` : key) / 1000 : Number.NaN, r };
      })
      .filter((p) => Number.isFinite(p.t))
      .sort((a, b) => a.t - b.t);
    return {
      times: points.map((p) => p.t),
      series: [
        { label: "Valid", color: "#15803d", values: points.map((p) => p.r.valid_clicks) },
        { label: "Fraud", color: "#b91c1c", values: points.map((p) => p.r.fraud_clicks) },
      ],
    };
  }, [rows]);
  if (data.times.length === 0) return <Empty>No clicks to chart in this range.</Empty>;
  return <TimeChart title="Valid and fraud clicks" times={data.times} series={data.series} zone={zone} />;
}
