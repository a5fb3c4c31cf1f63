// Each role's home: KPI cards (today vs yesterday, this month vs last month), the time series of
// the chosen range, top offers and publishers, and what needs doing next.

import { useMemo } from "preact/hooks";
import { api, currentUser, unwrap } from "../api";
import { TimeChart, toSeries } from "../chart";
import {
  CopyButton,
  Empty,
  fmt,
  Kpi,
  localDate,
  money,
  RangePicker,
  rangeQuery,
  Show,
  Table,
  useLoad,
  useOfferNames,
  useRange,
} from "../ui";

type Totals = {
  clicks: number;
  valid_clicks: number;
  conversions: number;
  pending_conversions: number;
  cr: number | null;
  revenue: Record<string, string>;
  payout: Record<string, string>;
};
type Stats = {
  from: string;
  to: string;
  timezone: string;
  rows: Array<Record<string, unknown>>;
  totals: Totals;
  previous?: { totals: Totals } | undefined;
};

function stats(query: Record<string, string>): Promise<Stats> {
  return unwrap(api.GET("/api/stats", { params: { query: query as never } })) as Promise<Stats>;
}

const firstAmount = (m: Record<string, string> | undefined) => Number(Object.values(m ?? {})[0] ?? 0);

function KpiRow({
  title,
  now,
  before,
  money: showMoney,
}: {
  title: string;
  now: Totals;
  before?: Totals | undefined;
  money: "revenue" | "payout";
}) {
  return (
    <section class="kpis" aria-label={title}>
      <h2>{title}</h2>
      <div class="kpi-grid">
        <Kpi label="Clicks" value={now.clicks} previous={before?.clicks ?? null} />
        <Kpi label="Conversions" value={now.conversions} previous={before?.conversions ?? null} />
        <Kpi
          label="CVR %"
          value={now.cr === null ? null : Math.round(now.cr * 100) / 100}
          previous={before?.cr ?? null}
        />
        <Kpi
          label={showMoney === "revenue" ? "Revenue" : "Earnings"}
          value={firstAmount(now[showMoney])}
          previous={before ? firstAmount(before[showMoney]) : null}
        />
      </div>
      <p class="muted small-print">
        {showMoney === "revenue" ? "Revenue" : "Earnings"}: {money(now[showMoney])}
      </p>
    </section>
  );
}

/** Never settles: a loader that waits for the KPI cards stays "loading" until it runs again. */
const afterKpis = <T,>(): Promise<T> => new Promise<T>(() => undefined);

export function HomePage() {
  const user = currentUser();
  const { range } = useRange();
  const tz = range.timezone;
  const role = user?.role ?? "publisher";
  const moneyKey = role === "publisher" ? "payout" : "revenue";
  const [kpis] = useLoad(async () => {
    const today = localDate(tz);
    const [day, month] = await Promise.all([
      stats({ from: today, to: today, timezone: tz, compare: "previous_period" }),
      stats({ interval: "mtd", timezone: tz, compare: "previous_period" }),
    ]);
    return { day, month };
  }, [tz]);
  // The KPI cards come first: the chart, top lists and tasks ask only once they are answered, so
  // on a big network their queries do not compete with the cards' (browser connections, database).
  const kpisSettled = kpis.state !== "loading";
  const byTime = range.interval === "24h" ? "hour" : "day";
  const [series] = useLoad(
    () => (kpisSettled ? stats({ ...rangeQuery(range), group_by: byTime }) : afterKpis<never>()),
    [range, kpisSettled],
  );
  const [top] = useLoad(async () => {
    if (!kpisSettled) return afterKpis<never>();
    const names = async (p: Promise<unknown>) =>
      new Map(
        ((await p.catch(() => ({ items: [] }))) as { items: Array<{ id: string; name: string }> }).items.map(
          (x) => [x.id, x.name],
        ),
      );
    const [offers, publishers, offerNames, publisherNames] = await Promise.all([
      stats({ ...rangeQuery(range), group_by: "offer" }),
      role === "publisher" ? Promise.resolve(null) : stats({ ...rangeQuery(range), group_by: "publisher" }),
      names(unwrap(api.GET("/api/offers", { params: { query: { limit: "100" } as never } }))),
      role === "network_admin"
        ? names(unwrap(api.GET("/api/publishers", { params: { query: { limit: "100" } as never } })))
        : Promise.resolve(new Map<string, string>()),
    ]);
    return { offers, publishers, offerNames, publisherNames };
  }, [range, role, kpisSettled]);
  return (
    <section>
      <div class="page-head">
        <h1>
          {role === "network_admin" ? "Network" : role === "advertiser" ? "Advertiser" : "Publisher"} home
        </h1>
        <RangePicker />
      </div>
      <Show value={kpis}>
        {({ day, month }) => (
          <div class="kpi-rows" data-testid="kpis">
            <KpiRow
              title="Today vs yesterday"
              now={day.totals}
              before={day.previous?.totals}
              money={moneyKey}
            />
            <KpiRow
              title="This month vs last month"
              now={month.totals}
              before={month.previous?.totals}
              money={moneyKey}
            />
          </div>
        )}
      </Show>
      <Show value={series}>
        {(s) => <Trend stats={s} by={byTime} zone={tz} earnings={role === "publisher"} />}
      </Show>
      {role !== "publisher" && kpisSettled && <Tasks admin={role === "network_admin"} />}
      {role === "publisher" && kpisSettled && <MyLinks />}
      {role !== "network_admin" && kpisSettled && <RecentConversions publisher={role === "publisher"} />}
      <Show value={top}>
        {({ offers, publishers, offerNames, publisherNames }) => (
          <div class="two-col">
            <TopList
              title="Top offers"
              rows={offers.rows}
              keyName="offer"
              names={offerNames}
              money={moneyKey}
            />
            {publishers && (
              <TopList
                title="Top publishers"
                rows={publishers.rows}
                keyName="publisher"
                names={publisherNames}
                money={moneyKey}
              />
            )}
          </div>
        )}
      </Show>
    </section>
  );
}

function Trend({
  stats: s,
  by,
  zone,
  earnings,
}: {
  stats: Stats;
  by: "hour" | "day";
  zone: string;
  earnings: boolean;
}) {
  const data = useMemo(() => {
    const { times, rows } = toSeries(s.rows, by, s);
    // Earnings in the publisher's main payout currency (the one with the largest total).
    const currency =
      Object.entries(s.totals.payout).sort((a, b) => Number(b[1]) - Number(a[1]))[0]?.[0] ?? "USD";
    return {
      times,
      currency,
      series: [
        { label: "Clicks", color: "#2563eb", values: rows.map((r) => Number(r.clicks ?? 0)) },
        { label: "Conversions", color: "#c2410c", values: rows.map((r) => Number(r.conversions ?? 0)) },
      ],
      earnings: [
        {
          label: `Earnings (${currency})`,
          color: "#15803d",
          values: rows.map((r) => Number((r.payout as Record<string, string> | undefined)?.[currency] ?? 0)),
        },
      ],
    };
  }, [s, by]);
  if (data.times.length === 0 || s.totals.clicks + s.totals.conversions === 0)
    return (
      <Empty>
        No clicks in this range yet. Share a tracking link (Offers → join, then Links) or widen the range
        above.
      </Empty>
    );
  const axisZone = by === "day" ? "UTC" : zone;
  return (
    <>
      <TimeChart
        title={`Clicks and conversions per ${by}`}
        times={data.times}
        series={data.series}
        zone={axisZone}
      />
      {earnings && (
        <TimeChart
          title={`Approved earnings per ${by}`}
          times={data.times}
          series={data.earnings}
          zone={axisZone}
        />
      )}
    </>
  );
}

function TopList({
  title,
  rows,
  keyName,
  names,
  money: m,
}: {
  title: string;
  rows: Array<Record<string, unknown>>;
  keyName: string;
  names: Map<string, string>;
  money: "revenue" | "payout";
}) {
  const sorted = [...rows].sort((a, b) => Number(b.clicks ?? 0) - Number(a.clicks ?? 0)).slice(0, 5);
  return (
    <section>
      <h2>{title}</h2>
      {sorted.length === 0 ? (
        <Empty>Nothing yet in this range.</Empty>
      ) : (
        <Table
          caption={title}
          head={[
            keyName === "offer" ? "Offer" : "Publisher",
            "Clicks",
            "Conversions",
            m === "revenue" ? "Revenue" : "Earnings",
          ]}
          rows={sorted.map((r) => [
            names.get(String(r[keyName])) ?? String(r[keyName] ?? "—"),
            fmt(Number(r.clicks ?? 0)),
            fmt(Number(r.conversions ?? 0)),
            money(r[m] as Record<string, string>),
          ])}
        />
      )}
    </section>
  );
}

/** What needs a decision: the network admin's (or an advertiser's own) queue. */
function Tasks({ admin }: { admin: boolean }) {
  const [tasks] = useLoad(async () => {
    const [pending, applications, hooks, publishers] = await Promise.all([
      unwrap(
        api.GET("/api/events", {
          params: { query: { type: "conversions", status: "pending", limit: "100" } as never },
        }),
      ),
      unwrap(
        api.GET("/api/applications", { params: { query: { status: "pending", limit: "100" } as never } }),
      ),
      unwrap(api.GET("/api/webhooks", {})),
      admin
        ? unwrap(api.GET("/api/publishers", { params: { query: { status: "suspended" } as never } }))
        : Promise.resolve({ items: [] }),
    ]);
    const failing = (
      hooks as { items: Array<{ id: string; url: string; enabled: boolean; failing_since: string | null }> }
    ).items.filter((w) => w.failing_since || !w.enabled);
    return {
      pending: (pending as { items: unknown[] }).items.length,
      applications: (applications as { items: unknown[] }).items.length,
      failing,
      suspended: (publishers as { items: unknown[] }).items.length,
    };
  }, [admin]);
  return (
    <section aria-label="Tasks">
      <h2>Tasks</h2>
      <Show value={tasks}>
        {(t) =>
          t.pending + t.applications + t.failing.length + t.suspended === 0 ? (
            <Empty>
              Nothing to do: no pending conversions or applications, every webhook endpoint is delivering.
            </Empty>
          ) : (
            <ul class="tasks">
              {t.pending > 0 && (
                <li>
                  <a href="/conversions?status=pending">
                    Review {t.pending}
                    {t.pending >= 100 ? "+" : ""} pending conversion{t.pending === 1 ? "" : "s"}
                  </a>
                </li>
              )}
              {t.applications > 0 && (
                <li data-task="applications">
                  <a href="/applications?status=pending">
                    Decide {t.applications}
                    {t.applications >= 100 ? "+" : ""} publisher application{t.applications === 1 ? "" : "s"}
                  </a>
                </li>
              )}
              {t.failing.map((w) => (
                <li key={w.id}>
                  <a href="/webhooks">Webhook endpoint failing or disabled: {w.url}</a>
                </li>
              ))}
              {t.suspended > 0 && <li>{t.suspended} suspended publisher(s) to review</li>}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

function MyLinks() {
  const [links] = useLoad(
    async () =>
      (await unwrap(api.GET("/api/links", { params: { query: { limit: "5" } as never } }))) as {
        items: Array<{
          tracking_code: string;
          offer_name: string;
          tracking_url: string;
          short_link: string | null;
        }>;
      },
    [],
  );
  return (
    <section aria-label="Your links">
      <h2>Your links</h2>
      <Show value={links}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>
              No tracking links yet. Open <a href="/offers">Offers</a> and press “Join” on one.
            </Empty>
          ) : (
            <ul class="tasks">
              {items.map((l) => (
                <li key={l.tracking_code}>
                  {l.offer_name}: <code class="link">{l.short_link ?? l.tracking_url}</code>{" "}
                  <CopyButton text={l.short_link ?? l.tracking_url} />
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

function RecentConversions({ publisher }: { publisher: boolean }) {
  const offerNames = useOfferNames();
  const [list] = useLoad(
    async () =>
      (await unwrap(
        api.GET("/api/events", { params: { query: { type: "conversions", limit: "5" } as never } }),
      )) as unknown as { items: Array<Record<string, unknown>> },
    [],
  );
  return (
    <section aria-label="Recent conversions">
      <h2>Recent conversions</h2>
      <Show value={list}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>
              No conversions yet: they appear here as soon as a postback arrives for one of your clicks.
            </Empty>
          ) : (
            <Table
              caption="Recent conversions"
              head={["When", "Offer", "Status", publisher ? "Payout" : "Amount"]}
              rows={items.map((c) => [
                new Date(String(c.created_at)).toLocaleString(),
                offerNames.get(String(c.offer_id)) ?? String(c.offer_id ?? ""),
                <span key="s" class={`badge ${String(c.status)}`}>
                  {String(c.status)}
                </span>,
                publisher
                  ? `${String(c.payout ?? "")} ${String(c.payout_currency ?? "")}`
                  : `${String(c.amount ?? "")} ${String(c.currency ?? "")}`,
              ])}
            />
          )
        }
      </Show>
    </section>
  );
}
