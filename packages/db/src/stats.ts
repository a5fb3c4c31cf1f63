// Analytics reads (issue 9): GET /api/stats over the rollups, the live per-minute counters and the
// network's time zone. Nothing here scans raw clicks: stats_h (hourly, offer × publisher × country
// × verdict) answers a zone whose offsets are whole hours when no finer dimension is asked;
// stats_q (15-minute, every dimension) answers everything else, exactly in any IANA zone.
//
// Time zones and DST: buckets are UTC instants; the query converts each bucket's start with
// `AT TIME ZONE` (Postgres's tzdata), so a bucket belongs to the local hour/day/week/month its start
// falls in, on either side of a DST change. Range ends given as local dates are converted the same
// way (a local day of 23 or 25 hours is just fewer or more buckets).

import {
  ApiError,
  COUNTED_VERDICTS,
  FRAUD_VERDICTS,
  type FraudEventsInput,
  type MultiFilter,
  type Stats,
  type StatsGroup,
  type StatsQueryInput,
  type StatsRangeInput,
} from "@afftrack/core";
import { type Kysely, type RawBuilder, sql } from "kysely";
import { paginate } from "./pagination";
import type { Database } from "./schema";
import type { CallerScope } from "./scope";

const MAX_ROWS = 10_000;

/** Which rollup table answers a request, and the bucket width its range is aligned to. */
export interface StatsPlan {
  table: "stats_q" | "stats_h";
  granularity: "15 minutes" | "1 hour";
}

const FINE_DIMENSIONS: readonly StatsGroup[] = ["device", "os", "browser", "sub1"];
const HOUR = 3_600_000;

/** The zone's UTC offset (minutes) at an instant, from the runtime's ICU. */
export function zoneOffsetMinutes(zone: string, at: Date): number {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName")?.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part ?? "");
  if (!m) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * Whether every offset the zone had in the years `fromYear..toYear` is a whole hour: sampled in
 * January and July of each year, which covers standard and daylight time (Lord_Howe's 30-minute
 * DST shows in one of them). Data older than 2015 is not expected, so earlier years are skipped.
 */
export function isWholeHourZone(zone: string, fromYear: number, toYear: number): boolean {
  for (let y = Math.max(fromYear, 2015); y <= toYear; y++) {
    for (const month of [0, 6]) {
      if (zoneOffsetMinutes(zone, new Date(Date.UTC(y, month, 15))) % 60 !== 0) return false;
    }
  }
  return true;
}

function hasOffset(s: string): boolean {
  return /(Z|[+-]\d{2}:\d{2})$/.test(s);
}

/** A datetime bound that may not fall on a whole UTC hour (dates and rolling intervals always do in a whole-hour zone). */
function hourAligned(s: string | undefined): boolean {
  if (!s || s.length === 10) return true;
  if (hasOffset(s)) return Date.parse(s) % HOUR === 0;
  return /T\d{2}:00(:00(\.0+)?)?$/.test(s);
}

export function planStats(q: StatsQueryInput, zone: string, now: Date = new Date()): StatsPlan {
  const fine =
    q.group_by.some((g) => FINE_DIMENSIONS.includes(g)) ||
    q.device !== undefined ||
    q.sub1 !== undefined ||
    !hourAligned(q.from) ||
    !hourAligned(q.to);
  const fromYear = q.from
    ? Number(q.from.slice(0, 4))
    : q.interval === "all"
      ? 2015
      : now.getUTCFullYear() - 1;
  const toYear = q.to ? Number(q.to.slice(0, 4)) : now.getUTCFullYear();
  if (fine || !isWholeHourZone(zone, fromYear - 1, toYear + 1)) {
    return { table: "stats_q", granularity: "15 minutes" };
  }
  return { table: "stats_h", granularity: "1 hour" };
}

// ---------------------------------------------------------------------------------------------
// The range, resolved in SQL (Postgres's tzdata converts local dates)

const CALENDAR: Record<string, string> = { mtd: "month", qtd: "quarter", ytd: "year" };
const CALENDAR_LENGTH: Record<string, string> = { mtd: "1 month", qtd: "3 months", ytd: "1 year" };
const ROLLING_HOURS: Record<string, number> = { "24h": 24, "7d": 168, "30d": 720, "90d": 2160 };

function bound(s: string, end: boolean, tz: RawBuilder<unknown>): RawBuilder<unknown> {
  if (s.length === 10) {
    return end
      ? sql`((${s}::date + 1)::timestamp AT TIME ZONE ${tz})`
      : sql`(${s}::date::timestamp AT TIME ZONE ${tz})`;
  }
  return hasOffset(s) ? sql`${s}::timestamptz` : sql`(${s}::timestamp AT TIME ZONE ${tz})`;
}

/** `f`, `t` (the range, aligned to the plan's buckets) and `pf`, `pt` (the previous period). */
function rangeSql(
  q: StatsQueryInput,
  granularity: string,
  tz: RawBuilder<unknown>,
  now: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const g = sql.lit(granularity);
  const floor = (x: RawBuilder<unknown>) => sql`date_bin(${g}::interval, ${x}, timestamptz 'epoch')`;
  const ceil = (x: RawBuilder<unknown>) =>
    sql`date_bin(${g}::interval, ${x} + ${g}::interval - interval '1 microsecond', timestamptz 'epoch')`;
  const nowCeil = sql`(date_bin('1 hour', ${now}, timestamptz 'epoch') + interval '1 hour')`;
  const interval = q.interval ?? (q.from ? undefined : "30d");
  let f: RawBuilder<unknown>;
  let t: RawBuilder<unknown>;
  let prev: RawBuilder<unknown> = sql`r0.f - (r0.t - r0.f), r0.f`;
  if (interval && CALENDAR[interval]) {
    const unit = sql.lit(CALENDAR[interval]);
    const one = sql.lit(CALENDAR_LENGTH[interval] as string);
    f = sql`date_trunc(${unit}, ${now}, ${tz})`;
    t = nowCeil;
    // The previous month/quarter/year from its start, for the same elapsed local time (at most to
    // its end: the 31st of March compares with all of February).
    prev = sql`((r0.f AT TIME ZONE ${tz}) - ${one}::interval) AT TIME ZONE ${tz},
      least(((r0.f AT TIME ZONE ${tz}) - ${one}::interval + ((r0.t AT TIME ZONE ${tz}) - (r0.f AT TIME ZONE ${tz})))
        AT TIME ZONE ${tz}, r0.f)`;
  } else if (interval === "all") {
    f = sql`timestamptz '2000-01-01T00:00:00Z'`;
    t = nowCeil;
  } else if (interval) {
    t = nowCeil;
    f = sql`${nowCeil} - ${sql.lit(`${ROLLING_HOURS[interval]} hours`)}::interval`;
  } else {
    f = floor(bound(q.from as string, false, tz));
    t = q.to ? ceil(bound(q.to, true, tz)) : nowCeil;
  }
  return sql`SELECT r0.f, r0.t, ${prev} FROM (SELECT ${f} AS f, ${t} AS t) r0`;
}

// ---------------------------------------------------------------------------------------------
// The grouped query

function keyExpr(g: StatsGroup, tz: RawBuilder<unknown>) {
  const KEY_EXPR: Record<
    StatsGroup,
    { inner: RawBuilder<unknown>; outer: (k: RawBuilder<unknown>) => RawBuilder<unknown> }
  > = {
    hour: {
      inner: sql`date_trunc('hour', s.bucket, ${tz})`,
      // Local wall time with its offset: the two 01:00 hours of a DST fall-back stay apart.
      outer: (k) => sql`to_char(${k} AT TIME ZONE ${tz}, 'YYYY-MM-DD"T"HH24:MI:SS') || (SELECT
        CASE WHEN m < 0 THEN '-' ELSE '+' END || lpad((abs(m) / 60)::text, 2, '0') || ':' || lpad((abs(m) % 60)::text, 2, '0')
        FROM (SELECT (extract(epoch FROM (${k} AT TIME ZONE ${tz}) - (${k} AT TIME ZONE 'UTC')) / 60)::int AS m) o)`,
    },
    day: { inner: sql`(s.bucket AT TIME ZONE ${tz})::date`, outer: (k) => sql`to_char(${k}, 'YYYY-MM-DD')` },
    // ISO weeks (Monday first), named by their Monday.
    week: {
      inner: sql`date_trunc('week', s.bucket AT TIME ZONE ${tz})::date`,
      outer: (k) => sql`to_char(${k}, 'YYYY-MM-DD')`,
    },
    month: {
      inner: sql`date_trunc('month', s.bucket AT TIME ZONE ${tz})::date`,
      outer: (k) => sql`to_char(${k}, 'YYYY-MM')`,
    },
    offer: { inner: sql`s.offer_id`, outer: (k) => k },
    publisher: { inner: sql`nullif(s.publisher_id, '')`, outer: (k) => k },
    country: { inner: sql`nullif(s.country, '')`, outer: (k) => k },
    device: { inner: sql`nullif(s.device, '')`, outer: (k) => k },
    os: { inner: sql`nullif(s.os, '')`, outer: (k) => k },
    browser: { inner: sql`nullif(s.browser, '')`, outer: (k) => k },
    sub1: { inner: sql`nullif(s.sub1, '')`, outer: (k) => k },
    verdict: { inner: sql`nullif(s.verdict, '')`, outer: (k) => k },
  };
  return KEY_EXPR[g];
}

function filterSql(column: string, f: MultiFilter | undefined): RawBuilder<unknown>[] {
  if (!f) return [];
  const col = sql.ref(`s.${column}`);
  const out: RawBuilder<unknown>[] = [];
  if (f.include.length > 0) out.push(sql`${col} = ANY(${sql.val(f.include)}::text[])`);
  if (f.exclude.length > 0) out.push(sql`NOT (${col} = ANY(${sql.val(f.exclude)}::text[]))`);
  return out;
}

function scopeSql(caller: CallerScope): RawBuilder<unknown> {
  if (caller.role === "publisher") return sql`s.publisher_id = ${caller.publisher_id ?? "-"}`;
  if (caller.role === "advertiser") return sql`s.advertiser_id = ${caller.advertiser_id ?? "-"}`;
  return sql`true`;
}

interface StatsSqlRow {
  period: "cur" | "prev";
  is_total: boolean;
  currency: string;
  payout_currency: string;
  clicks: string;
  unique_clicks: string;
  valid_clicks: string;
  fraud_clicks: string;
  pending: string;
  approved: string;
  rejected: string;
  revenue: string;
  payout: string;
  [key: `k_${string}`]: string | null;
}

/** The tenant's time zone (the stats' default). */
export async function getNetworkTimezone(db: Kysely<Database>, tenantId: string): Promise<string> {
  const row = await db.selectFrom("tenants").select("timezone").where("id", "=", tenantId).executeTakeFirst();
  return row?.timezone ?? "UTC";
}

export async function queryStats(
  db: Kysely<Database>,
  caller: CallerScope,
  q: StatsQueryInput,
  opts: { now?: Date } = {},
): Promise<Stats> {
  if (q.interval && (q.from || q.to)) {
    throw new ApiError("INVALID_PARAMS", 'Invalid parameter "interval": give either interval or from/to');
  }
  if (q.to && !q.from) throw new ApiError("INVALID_PARAMS", 'Invalid parameter "from": required with "to"');
  const zone = q.timezone ?? (await getNetworkTimezone(db, caller.tenant_id));
  const plan = planStats(q, zone, opts.now);
  const tz = sql`${zone}::text`;
  const now = opts.now ? sql`${opts.now.toISOString()}::timestamptz` : sql`now()`;
  const groups = q.group_by;
  const innerKeys = groups.map((g) => sql`${keyExpr(g, tz).inner} AS ${sql.ref(`k_${g}`)}`);
  const outerKeys = groups.map(
    (g) => sql`${keyExpr(g, tz).outer(sql.ref(`z.k_${g}`))} AS ${sql.ref(`k_${g}`)}`,
  );
  const where = [
    scopeSql(caller),
    ...(q.include_bots ? [] : [sql`s.verdict <> 'bot'`]),
    ...filterSql("offer_id", q.offer_id),
    ...filterSql("publisher_id", q.publisher_id),
    ...filterSql("country", q.country),
    ...filterSql("device", q.device),
    ...filterSql("sub1", q.sub1),
  ];
  const table = sql.table(plan.table);
  const period = (name: "cur" | "prev", f: string, t: string) => sql`
    SELECT ${sql.lit(name)}::text AS period, s.* FROM ${table} s, r
    WHERE s.tenant_id = ${caller.tenant_id} AND s.bucket >= r.${sql.ref(f)} AND s.bucket < r.${sql.ref(t)}
      AND ${sql.join(where, sql` AND `)}`;
  const groupRefs = groups.map((g) => sql.ref(`z.k_${g}`));
  const sets =
    groups.length > 0
      ? sql`GROUPING SETS ((z.period, ${sql.join(groupRefs)}, z.currency, z.payout_currency),
          (z.period, z.currency, z.payout_currency))`
      : sql`z.period, z.currency, z.payout_currency`;
  const isTotal = groups.length > 0 ? sql`GROUPING(${sql.join(groupRefs)}) <> 0` : sql`true`;
  const revenue = caller.role === "publisher" ? sql`'0'` : sql`sum(z.revenue)::text`;
  const utc = (col: string) => sql`to_char(${sql.ref(col)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const result = await sql<{ f: string; t: string; pf: string; pt: string; data: StatsSqlRow[] }>`
    WITH r AS (SELECT * FROM (${rangeSql(q, plan.granularity, tz, now)}) x(f, t, pf, pt))
    SELECT ${utc("r.f")} AS f, ${utc("r.t")} AS t, ${utc("r.pf")} AS pf, ${utc("r.pt")} AS pt,
      (SELECT coalesce(json_agg(g), '[]'::json) FROM (
        SELECT z.period, ${isTotal} AS is_total, z.currency, z.payout_currency,
          ${groups.length > 0 ? sql`${sql.join(outerKeys)},` : sql``}
          sum(z.clicks) AS clicks, sum(z.unique_clicks) AS unique_clicks,
          coalesce(sum(z.clicks) FILTER (WHERE z.verdict = ANY(${sql.val([...COUNTED_VERDICTS])}::text[])), 0)
            AS valid_clicks,
          coalesce(sum(z.clicks) FILTER (WHERE z.verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[])), 0)
            AS fraud_clicks,
          sum(z.pending_conversions) AS pending, sum(z.approved_conversions) AS approved,
          sum(z.rejected_conversions) AS rejected, ${revenue} AS revenue, sum(z.payout)::text AS payout
        FROM (
          SELECT s.period, ${groups.length > 0 ? sql`${sql.join(innerKeys)},` : sql``} s.verdict, s.currency,
            s.payout_currency, s.clicks, s.unique_clicks, s.pending_conversions, s.approved_conversions,
            s.rejected_conversions, s.revenue, s.payout
          FROM (${period("cur", "f", "t")} ${q.compare ? sql`UNION ALL ${period("prev", "pf", "pt")}` : sql``}) s
        ) z
        GROUP BY ${sets}
      ) g) AS data
    FROM r
  `
    .execute(db)
    .catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      // A zone ICU knows but this Postgres's tzdata does not, or a date out of range.
      if (code === "22023" || code === "22008" || code === "22007") {
        throw new ApiError("INVALID_PARAMS", 'Invalid parameter "timezone" or range: Postgres refused it');
      }
      throw err;
    });
  const row = result.rows[0];
  if (!row) throw new Error("stats: no range row");
  return assemble(row, groups, zone, caller, q.compare !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Rows → the wire shape (money summed exactly as 4-decimal fixed point)

interface Acc {
  keys: Record<string, string | null>;
  clicks: number;
  unique_clicks: number;
  valid_clicks: number;
  fraud_clicks: number;
  pending: number;
  approved: number;
  rejected: number;
  revenue: Map<string, bigint>;
  payout: Map<string, bigint>;
}

const SCALE = 10_000n;

export function decimalToUnits(s: string | null): bigint {
  if (!s) return 0n;
  const negative = s.startsWith("-");
  const [whole = "0", frac = ""] = (negative ? s.slice(1) : s).split(".");
  const units = BigInt(whole) * SCALE + BigInt(`${frac}0000`.slice(0, 4));
  return negative ? -units : units;
}

export function unitsToDecimal(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const frac = (abs % SCALE).toString().padStart(4, "0");
  return `${negative ? "-" : ""}${abs / SCALE}.${frac}`;
}

function newAcc(keys: Record<string, string | null>): Acc {
  return {
    keys,
    clicks: 0,
    unique_clicks: 0,
    valid_clicks: 0,
    fraud_clicks: 0,
    pending: 0,
    approved: 0,
    rejected: 0,
    revenue: new Map(),
    payout: new Map(),
  };
}

function addMoney(map: Map<string, bigint>, currency: string, amount: string): void {
  const units = decimalToUnits(amount);
  if (currency === "" || units === 0n) return;
  map.set(currency, (map.get(currency) ?? 0n) + units);
}

function moneyObject(map: Map<string, bigint>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [currency, units] of [...map].sort(([a], [b]) => a.localeCompare(b))) {
    if (units !== 0n) out[currency] = unitsToDecimal(units);
  }
  return out;
}

function metrics(a: Acc, caller: CallerScope) {
  const conversions = a.pending + a.approved + a.rejected;
  const epc: Record<string, string> = {};
  if (a.valid_clicks > 0) {
    for (const [currency, units] of a.payout) epc[currency] = unitsToDecimal(units / BigInt(a.valid_clicks));
  }
  return {
    clicks: a.clicks,
    unique_clicks: a.unique_clicks,
    valid_clicks: a.valid_clicks,
    fraud_clicks: a.fraud_clicks,
    conversions,
    approved_conversions: a.approved,
    pending_conversions: a.pending,
    rejected_conversions: a.rejected,
    revenue: caller.role === "publisher" ? {} : moneyObject(a.revenue),
    payout: moneyObject(a.payout),
    cr: a.valid_clicks > 0 ? Math.round((conversions / a.valid_clicks) * 100 * 10_000) / 10_000 : null,
    epc,
  };
}

function assemble(
  range: { f: string; t: string; pf: string; pt: string; data: StatsSqlRow[] },
  groups: StatsGroup[],
  zone: string,
  caller: CallerScope,
  compare: boolean,
): Stats {
  const periods = {
    cur: { rows: new Map<string, Acc>(), total: newAcc({}) },
    prev: { rows: new Map<string, Acc>(), total: newAcc({}) },
  };
  for (const row of range.data) {
    const p = periods[row.period];
    let acc = p.total;
    if (!row.is_total) {
      const keys: Record<string, string | null> = {};
      for (const g of groups) keys[g] = row[`k_${g}`] ?? null;
      const id = JSON.stringify(groups.map((g) => keys[g]));
      acc = p.rows.get(id) ?? newAcc(keys);
      p.rows.set(id, acc);
    }
    acc.clicks += Number(row.clicks);
    acc.unique_clicks += Number(row.unique_clicks);
    acc.valid_clicks += Number(row.valid_clicks);
    acc.fraud_clicks += Number(row.fraud_clicks);
    acc.pending += Number(row.pending);
    acc.approved += Number(row.approved);
    acc.rejected += Number(row.rejected);
    addMoney(acc.revenue, row.currency, row.revenue);
    addMoney(acc.payout, row.payout_currency, row.payout);
  }
  const times = groups.filter((g) => g === "hour" || g === "day" || g === "week" || g === "month");
  const shape = (p: { rows: Map<string, Acc>; total: Acc }) => {
    const list = [...p.rows.values()];
    // Time groups in order, then the biggest groups first.
    list.sort((a, b) => {
      const ka = times.map((g) => a.keys[g] ?? "").join("|");
      const kb = times.map((g) => b.keys[g] ?? "").join("|");
      return ka < kb ? -1 : ka > kb ? 1 : b.clicks - a.clicks;
    });
    return {
      rows: list.slice(0, MAX_ROWS).map((a) => ({ ...a.keys, ...metrics(a, caller) })),
      totals: metrics(p.total, caller),
      truncated: list.length > MAX_ROWS,
    };
  };
  const cur = shape(periods.cur);
  const out: Stats = {
    timezone: zone,
    group_by: groups,
    from: range.f,
    to: range.t,
    rows: cur.rows,
    totals: cur.totals,
    truncated: cur.truncated,
  };
  if (compare) {
    const prev = shape(periods.prev);
    out.previous = {
      from: range.pf,
      to: range.pt,
      rows: prev.rows,
      totals: prev.totals,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Live: the last 60 minutes, per UTC minute, from stats_live (written with the rollups)

export async function liveStats(db: Kysely<Database>, caller: CallerScope, opts: { now?: Date } = {}) {
  const now = opts.now ? sql`${opts.now.toISOString()}::timestamptz` : sql`now()`;
  const scope =
    caller.role === "publisher"
      ? sql`AND s.publisher_id = ${caller.publisher_id ?? "-"}`
      : caller.role === "advertiser"
        ? sql`AND s.advertiser_id = ${caller.advertiser_id ?? "-"}`
        : sql``;
  const result = await sql<{
    minute: string;
    clicks: number;
    valid_clicks: number;
    fraud_clicks: number;
    conversions: number;
  }>`
    SELECT to_char(m.minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS minute,
      coalesce(sum(s.clicks), 0)::int AS clicks, coalesce(sum(s.valid_clicks), 0)::int AS valid_clicks,
      coalesce(sum(s.fraud_clicks), 0)::int AS fraud_clicks, coalesce(sum(s.conversions), 0)::int AS conversions
    FROM generate_series(date_trunc('minute', ${now}) - interval '59 minutes', date_trunc('minute', ${now}),
      interval '1 minute') AS m(minute)
    LEFT JOIN stats_live s ON s.tenant_id = ${caller.tenant_id} AND s.minute = m.minute ${scope}
    GROUP BY m.minute ORDER BY m.minute
  `.execute(db);
  return { minutes: result.rows };
}

// ---------------------------------------------------------------------------------------------
// The network's settings (its time zone)

export async function getNetworkSettings(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom("tenants")
    .select(["id", "name", "timezone"])
    .where("id", "=", tenantId)
    .executeTakeFirstOrThrow();
}

/** Sets the network's time zone; Postgres must know it too (its tzdata converts the buckets). */
export async function updateNetworkTimezone(db: Kysely<Database>, tenantId: string, timezone: string) {
  const known = await sql<{ ok: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = ${timezone}) AS ok`.execute(db);
  if (!known.rows[0]?.ok) {
    throw new ApiError("INVALID_PARAMS", 'Invalid parameter "timezone": not a time zone this database knows');
  }
  return db
    .updateTable("tenants")
    .set({ timezone })
    .where("id", "=", tenantId)
    .returning(["id", "name", "timezone"])
    .executeTakeFirstOrThrow();
}

// ---------------------------------------------------------------------------------------------
// Fraud insights: the stats query grouped by verdict, reshaped (four statements, run together)

type FraudGroup = Record<string, unknown> & {
  clicks: number;
  valid_clicks: number;
  fraud_clicks: number;
  filtered_share: number | null;
  by_verdict: Record<string, number>;
};

function byVerdict(stats: Stats, keys: StatsGroup[]): FraudGroup[] {
  const groups = new Map<string, FraudGroup>();
  for (const row of stats.rows as (Record<string, unknown> & {
    clicks: number;
    valid_clicks: number;
    fraud_clicks: number;
  })[]) {
    const verdict = row.verdict as string | null;
    if (!verdict || row.clicks === 0) continue; // conversion counters
    const id = JSON.stringify(keys.map((k) => row[k]));
    let g = groups.get(id);
    if (!g) {
      g = { clicks: 0, valid_clicks: 0, fraud_clicks: 0, filtered_share: null, by_verdict: {} };
      for (const k of keys) g[k] = row[k];
      groups.set(id, g);
    }
    g.clicks += row.clicks;
    g.valid_clicks += row.valid_clicks;
    g.fraud_clicks += row.fraud_clicks;
    g.by_verdict[verdict] = (g.by_verdict[verdict] ?? 0) + row.clicks;
  }
  for (const g of groups.values()) g.filtered_share = g.clicks > 0 ? 1 - g.valid_clicks / g.clicks : null;
  return [...groups.values()];
}

const topByFraud = (list: FraudGroup[], n: number) =>
  list
    .filter((g) => g.fraud_clicks > 0 || g.clicks > g.valid_clicks)
    .sort((a, b) => b.fraud_clicks - a.fraud_clicks || b.clicks - a.clicks)
    .slice(0, n);

export async function fraudInsights(db: Kysely<Database>, caller: CallerScope, q: StatsRangeInput) {
  const zone = q.timezone ?? (await getNetworkTimezone(db, caller.tenant_id));
  const base = { ...q, timezone: zone, include_bots: true, compare: undefined };
  const run = (group_by: StatsGroup[]) => queryStats(db, caller, { ...base, group_by });
  const [time, publishers, subs, sources] = await Promise.all([
    run(["day", "verdict"]),
    run(["publisher", "verdict"]),
    run(["sub1", "verdict"]),
    run(["publisher", "sub1", "verdict"]),
  ]);
  const totals = byVerdict(time, [])[0] ?? {
    clicks: 0,
    valid_clicks: 0,
    fraud_clicks: 0,
    filtered_share: null,
    by_verdict: {},
  };
  return {
    timezone: zone,
    from: time.from,
    to: time.to,
    totals,
    over_time: byVerdict(time, ["day"]),
    by_publisher: topByFraud(byVerdict(publishers, ["publisher"]), 20),
    by_sub1: topByFraud(byVerdict(subs, ["sub1"]), 20),
    top_sources: topByFraud(byVerdict(sources, ["publisher", "sub1"]), 10),
  };
}

// ---------------------------------------------------------------------------------------------
// Raw fraud events, newest first, keyset pages

export async function listFraudEvents(db: Kysely<Database>, caller: CallerScope, q: FraudEventsInput) {
  let query = db
    .selectFrom("fraud_events as f")
    .select([
      sql<string>`f.id::text`.as("id"),
      "f.kind",
      "f.click_id",
      "f.offer_id",
      "f.publisher_id",
      "f.tracking_code",
      "f.detail",
      "f.created_at",
    ])
    .where("f.tenant_id", "=", caller.tenant_id);
  if (caller.role === "publisher") query = query.where("f.publisher_id", "=", caller.publisher_id ?? "-");
  if (caller.role === "advertiser") {
    query = query.where("f.offer_id", "in", (eb) =>
      eb
        .selectFrom("offers")
        .select("offers.id")
        .where("offers.advertiser_id", "=", caller.advertiser_id ?? "-"),
    );
  }
  if (q.kind) query = query.where("f.kind", "=", q.kind);
  if (q.offer_id) query = query.where("f.offer_id", "=", q.offer_id);
  if (q.publisher_id) query = query.where("f.publisher_id", "=", q.publisher_id);
  if (q.from) query = query.where("f.created_at", ">=", new Date(q.from));
  if (q.to) query = query.where("f.created_at", "<", new Date(q.to));
  return paginate(query, "f", q, (row) => ({ ...row, created_at: row.created_at.toISOString() }));
}
