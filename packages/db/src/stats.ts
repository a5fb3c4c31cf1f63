// Analytics reads (issue 9): GET /api/stats over the rollups, the live per-minute counters and the
// network's time zone. Nothing here scans raw clicks. Two tiers:
// - the daily tier (stats_day: per local day of the NETWORK's zone, one row set per dimension,
//   013-stats-day) answers the dashboards' common queries: day/week/month and at most offer,
//   publisher, country (or offer × publisher), role scope, in the network's zone;
// - stats_q (15-minute UTC buckets, every dimension) answers everything else, exactly in any IANA
//   zone, and the partial local days at the edges of a range the daily tier cannot cut;
// - stats_total (15-minute UTC buckets, no dimension) stands in for stats_q when a network admin's
//   request needs no dimension (no filter, time groups only): 96 rows a day whatever the volume.
//
// Time zones and DST: buckets are UTC instants; the query converts each bucket's start with
// `AT TIME ZONE` (Postgres's tzdata), so a bucket belongs to the local hour/day/week/month its start
// falls in, on either side of a DST change. Range ends given as local dates are converted the same
// way (a local day of 23 or 25 hours is just fewer or more buckets). A range read from the daily
// tier is split: whole local days from stats_day, the partial days at its edges from stats_q;
// a range ending now reads today whole from the daily tier (nothing is recorded after now).

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
import { DAILY_DIMS, type DailyDim, rebuildDailyTier, rebuildTotals } from "./rollups";
import type { Database } from "./schema";
import type { CallerScope } from "./scope";

const MAX_ROWS = 10_000;

/**
 * Which tier answers a request: the daily tier (whole days; its partial edge days from `edges`) or a
 * 15-minute table only: stats_total when the request needs no dimension, else stats_q.
 */
export type StatsPlan = { tier: "day"; dim: DailyDim; edges: FineTable } | { tier: "fine"; table: FineTable };
type FineTable = "stats_q" | "stats_total";

const TIME_GROUPS: readonly StatsGroup[] = ["hour", "day", "week", "month"];

const DAY_GROUPS: readonly StatsGroup[] = ["day", "week", "month", "offer", "publisher", "country"];

/**
 * The daily table holding every dimension a request needs (groups, filters, role scope), if the
 * request is in the network's zone and needs nothing finer than a day; else stats_q.
 */
export function planStats(
  q: StatsQueryInput,
  zone: string,
  networkZone: string,
  caller: CallerScope,
  force?: "fine",
): StatsPlan {
  // A network admin's unfiltered request grouped by time at most: the network totals suffice.
  const totals =
    force !== "fine" &&
    caller.role === "network_admin" &&
    q.group_by.every((g) => TIME_GROUPS.includes(g)) &&
    [q.offer_id, q.publisher_id, q.country, q.device, q.sub1].every((f) => f === undefined);
  const edges: FineTable = totals ? "stats_total" : "stats_q";
  const fine: StatsPlan = { tier: "fine", table: edges };
  if (force === "fine" || zone !== networkZone) return fine;
  if (q.group_by.some((g) => !DAY_GROUPS.includes(g)) || q.device !== undefined || q.sub1 !== undefined) {
    return fine;
  }
  const need = new Set<string>();
  for (const g of q.group_by) if (g === "offer" || g === "publisher" || g === "country") need.add(g);
  if (q.offer_id) need.add("offer");
  if (q.publisher_id) need.add("publisher");
  if (q.country) need.add("country");
  if (caller.role === "publisher") need.add("publisher");
  if (caller.role === "advertiser") need.add("advertiser");
  const within = (dims: string[]) => [...need].every((d) => dims.includes(d));
  if (within(["country"])) return { tier: "day", dim: "country", edges };
  if (within(["offer", "advertiser"])) return { tier: "day", dim: "offer", edges };
  if (within(["publisher"])) return { tier: "day", dim: "publisher", edges };
  if (within(["offer", "publisher", "advertiser"])) return { tier: "day", dim: "offer_publisher", edges };
  return fine;
}

// ---------------------------------------------------------------------------------------------
// The range, resolved in SQL (Postgres's tzdata converts local dates)

const CALENDAR: Record<string, string> = { mtd: "month", qtd: "quarter", ytd: "year" };
const CALENDAR_LENGTH: Record<string, string> = { mtd: "1 month", qtd: "3 months", ytd: "1 year" };
const ROLLING_DAYS: Record<string, number> = { "7d": 7, "30d": 30, "90d": 90 };

function hasOffset(s: string): boolean {
  return /(Z|[+-]\d{2}:\d{2})$/.test(s);
}

function bound(s: string, end: boolean, tz: RawBuilder<unknown>): RawBuilder<unknown> {
  if (s.length === 10) {
    return end
      ? sql`((${s}::date + 1)::timestamp AT TIME ZONE ${tz})`
      : sql`(${s}::date::timestamp AT TIME ZONE ${tz})`;
  }
  return hasOffset(s) ? sql`${s}::timestamptz` : sql`(${s}::timestamp AT TIME ZONE ${tz})`;
}

/**
 * `f`, `t` (the range, aligned to 15-minute buckets), `pf`, `pt` (the previous period) and
 * `open_end` (the range ends now: nothing recorded lies after it).
 */
function rangeSql(
  q: StatsQueryInput,
  tz: RawBuilder<unknown>,
  now: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const g = sql.lit("15 minutes");
  const floor = (x: RawBuilder<unknown>) => sql`date_bin(${g}::interval, ${x}, timestamptz 'epoch')`;
  const ceil = (x: RawBuilder<unknown>) =>
    sql`date_bin(${g}::interval, ${x} + ${g}::interval - interval '1 microsecond', timestamptz 'epoch')`;
  const nowCeil = sql`(date_bin('1 hour', ${now}, timestamptz 'epoch') + interval '1 hour')`;
  const interval = q.interval ?? (q.from ? undefined : "30d");
  let f: RawBuilder<unknown>;
  let t: RawBuilder<unknown> = nowCeil;
  let openEnd = true;
  let prev: RawBuilder<unknown> = sql`r0.f - (r0.t - r0.f), r0.f`;
  // The previous period of `length` (local calendar units) for the same elapsed local time, at
  // most to the current period's start (the 31st of March compares with all of February).
  const previous = (length: string) => {
    const one = sql.lit(length);
    return sql`((r0.f AT TIME ZONE ${tz}) - ${one}::interval) AT TIME ZONE ${tz},
      least(((r0.f AT TIME ZONE ${tz}) - ${one}::interval + ((r0.t AT TIME ZONE ${tz}) - (r0.f AT TIME ZONE ${tz})))
        AT TIME ZONE ${tz}, r0.f)`;
  };
  if (interval && CALENDAR[interval]) {
    f = sql`date_trunc(${sql.lit(CALENDAR[interval])}, ${now}, ${tz})`;
    prev = previous(CALENDAR_LENGTH[interval] as string);
  } else if (interval === "all") {
    f = sql`timestamptz '2000-01-01T00:00:00Z'`;
  } else if (interval && ROLLING_DAYS[interval]) {
    // The last N local days, today included (to now).
    const days = ROLLING_DAYS[interval] as number;
    f = sql`((date_trunc('day', ${now}, ${tz}) AT TIME ZONE ${tz}) - ${sql.lit(`${days - 1} days`)}::interval)
      AT TIME ZONE ${tz}`;
    prev = previous(`${days} days`);
  } else if (interval) {
    f = sql`${nowCeil} - interval '24 hours'`;
  } else {
    f = floor(bound(q.from as string, false, tz));
    if (q.to) {
      t = ceil(bound(q.to, true, tz));
      openEnd = false;
    }
  }
  return sql`SELECT r0.f, r0.t, ${prev}, ${sql.lit(openEnd)} FROM (SELECT ${f} AS f, ${t} AS t) r0`;
}

/**
 * The split of a period [f, t) for the daily tier: whole local days [d1, d2) from the daily table,
 * [f, e1) and [e2, t) from stats_q. An open end reads today whole from the daily table.
 */
function splitSql(
  f: string,
  t: string,
  open: RawBuilder<unknown>,
  tz: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const F = sql.ref(`r1.${f}`);
  const T = sql.ref(`r1.${t}`);
  const start = (d: RawBuilder<unknown>) => sql`(${d}::timestamp AT TIME ZONE ${tz})`;
  const d1 = sql`(CASE WHEN ${start(sql`(${F} AT TIME ZONE ${tz})::date`)} = ${F} THEN (${F} AT TIME ZONE ${tz})::date
    ELSE (${F} AT TIME ZONE ${tz})::date + 1 END)`;
  const d2 = sql`(CASE WHEN ${open} THEN ((${T} - interval '1 microsecond') AT TIME ZONE ${tz})::date + 1
    WHEN ${start(sql`(${T} AT TIME ZONE ${tz})::date`)} = ${T} THEN (${T} AT TIME ZONE ${tz})::date
    ELSE (${T} AT TIME ZONE ${tz})::date END)`;
  return sql`SELECT d1, greatest(d1, d2) AS d2, least(${start(sql`d1`)}, ${T}) AS e1,
      greatest(${start(sql`greatest(d1, d2)`)}, least(${start(sql`d1`)}, ${T})) AS e2
    FROM (SELECT ${d1} AS d1, ${d2} AS d2) x`;
}

// ---------------------------------------------------------------------------------------------
// The grouped query

function keyExpr(g: StatsGroup, tz: RawBuilder<unknown>, tier: "day" | "fine") {
  const local = sql`(s.bucket AT TIME ZONE ${tz})`;
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
    day: {
      inner: tier === "day" ? sql`s.day` : sql`${local}::date`,
      outer: (k) => sql`to_char(${k}, 'YYYY-MM-DD')`,
    },
    // ISO weeks (Monday first), named by their Monday.
    week: {
      inner: sql`date_trunc('week', ${tier === "day" ? sql`s.day` : local})::date`,
      outer: (k) => sql`to_char(${k}, 'YYYY-MM-DD')`,
    },
    month: {
      inner: sql`date_trunc('month', ${tier === "day" ? sql`s.day` : local})::date`,
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

/** A zone ICU knows but this Postgres's tzdata does not, or a date out of range: the caller's input. */
function refusedRange(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  if (code === "22023" || code === "22008" || code === "22007") {
    throw new ApiError("INVALID_PARAMS", 'Invalid parameter "timezone" or range: Postgres refused it');
  }
  throw err;
}

export async function queryStats(
  db: Kysely<Database>,
  caller: CallerScope,
  q: StatsQueryInput,
  opts: { now?: Date; networkZone?: string; tier?: "fine" } = {},
): Promise<Stats> {
  if (q.interval && (q.from || q.to)) {
    throw new ApiError("INVALID_PARAMS", 'Invalid parameter "interval": give either interval or from/to');
  }
  if (q.to && !q.from) throw new ApiError("INVALID_PARAMS", 'Invalid parameter "from": required with "to"');
  const networkZone = opts.networkZone ?? (await getNetworkTimezone(db, caller.tenant_id));
  const zone = q.timezone ?? networkZone;
  const plan = planStats(q, zone, networkZone, caller, opts.tier);
  const tz = sql`${zone}::text`;
  const now = opts.now ? sql`${opts.now.toISOString()}::timestamptz` : sql`now()`;
  const groups = q.group_by;
  const filters = [
    scopeSql(caller),
    ...filterSql("offer_id", q.offer_id),
    ...filterSql("publisher_id", q.publisher_id),
    ...filterSql("country", q.country),
    ...filterSql("device", q.device),
    ...filterSql("sub1", q.sub1),
  ];
  const counted = sql`${sql.val([...COUNTED_VERDICTS])}::text[]`;
  const periods: ("cur" | "prev")[] = q.compare ? ["cur", "prev"] : ["cur"];
  const splits =
    plan.tier === "day"
      ? sql`, ${sql.join(
          periods.map((p) => {
            const [f, t] = p === "cur" ? ["f", "t"] : ["pf", "pt"];
            const open = p === "cur" ? sql`r1.open_end` : sql`false`;
            return sql`LATERAL (${splitSql(f, t, open, tz)}) ${sql.raw(`${p}(${p}_d1, ${p}_d2, ${p}_e1, ${p}_e2)`)}`;
          }),
        )}`
      : sql``;
  // The range first, on its own: its bounds then reach the rollup scans as parameters, so the planner
  // sees how many rows they select (a bitmap scan of the daily tier's pages, not one index probe per
  // row as with bounds hidden in an init plan). Every value as text: exact, whatever the session zone.
  const utc = (col: string) => sql`to_char(${sql.ref(col)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const rangeColumns = [
    "f",
    "t",
    "pf",
    "pt",
    ...(plan.tier === "day" ? periods.flatMap((p) => ["d1", "d2", "e1", "e2"].map((c) => `${p}_${c}`)) : []),
  ];
  const range = await sql<Record<string, string>>`
    SELECT ${utc("r.f")} AS f_utc, ${utc("r.t")} AS t_utc, ${utc("r.pf")} AS pf_utc, ${utc("r.pt")} AS pt_utc,
      ${sql.join(rangeColumns.map((c) => sql`${sql.ref(`r.${c}`)}::text AS ${sql.ref(c)}`))}
    FROM (SELECT * FROM (SELECT * FROM (${rangeSql(q, tz, now)}) r1(f, t, pf, pt, open_end)) r1 ${splits}) r
  `
    .execute(db)
    .catch(refusedRange);
  const bounds = range.rows[0];
  if (!bounds) throw new Error("stats: no range row");
  const rangeCol = (col: string) =>
    /_d[12]$/.test(col) ? sql`${bounds[col]}::date` : sql`${bounds[col]}::timestamptz`;
  const fraud = sql`${sql.val([...FRAUD_VERDICTS])}::text[]`;
  const keys = (tier: "day" | "fine") =>
    groups.length > 0
      ? sql`${sql.join(groups.map((g) => sql`${keyExpr(g, tz, tier).inner} AS ${sql.ref(`k_${g}`)}`))},`
      : sql``;
  // One period's rows from stats_q in [lo, hi): each row's verdict folded into valid/fraud columns.
  const fine = (name: string, lo: string, hi: string) => sql`
    SELECT ${sql.lit(name)}::text AS period, ${keys("fine")} s.currency, s.payout_currency, s.clicks, s.unique_clicks,
      CASE WHEN s.verdict = ANY(${counted}) THEN s.clicks ELSE 0 END AS valid_clicks,
      CASE WHEN s.verdict = ANY(${fraud}) THEN s.clicks ELSE 0 END AS fraud_clicks,
      s.pending_conversions, s.approved_conversions, s.rejected_conversions, s.revenue, s.payout
    FROM stats_q s WHERE s.tenant_id = ${caller.tenant_id} AND s.bucket >= ${rangeCol(lo)} AND s.bucket < ${rangeCol(hi)}
      AND ${sql.join([...filters, ...(q.include_bots ? [] : [sql`s.verdict <> 'bot'`])], sql` AND `)}`;
  // Without bots, a folded row holding only bot clicks is no group (stats_q drops its bot rows alike).
  const notBotsOnly = q.include_bots ? [] : [sql`NOT (s.clicks > 0 AND s.clicks = s.bot_clicks)`];
  // One period's whole local days [lo, hi) from the daily table.
  const daily = (name: string, dim: DailyDim, lo: string, hi: string) => sql`
    SELECT ${sql.lit(name)}::text AS period, ${keys("day")} s.currency, s.payout_currency,
      ${q.include_bots ? sql`s.clicks, s.unique_clicks` : sql`s.clicks - s.bot_clicks AS clicks, s.unique_clicks - s.bot_unique_clicks AS unique_clicks`},
      s.valid_clicks, s.fraud_clicks, s.pending_conversions, s.approved_conversions, s.rejected_conversions,
      s.revenue, s.payout
    FROM stats_day s WHERE s.tenant_id = ${caller.tenant_id} AND s.dim = ${sql.lit(DAILY_DIMS[dim])}
      AND s.day >= ${rangeCol(lo)}
      AND s.day < ${rangeCol(hi)} AND ${sql.join([...filters, ...notBotsOnly], sql` AND `)}`;
  // One period's 15-minute network totals in [lo, hi) (no dimension: only time groups).
  const total = (name: string, lo: string, hi: string) => sql`
    SELECT ${sql.lit(name)}::text AS period, ${keys("fine")} s.currency, s.payout_currency,
      ${q.include_bots ? sql`s.clicks, s.unique_clicks` : sql`s.clicks - s.bot_clicks AS clicks, s.unique_clicks - s.bot_unique_clicks AS unique_clicks`},
      s.valid_clicks, s.fraud_clicks, s.pending_conversions, s.approved_conversions, s.rejected_conversions,
      s.revenue, s.payout
    FROM stats_total s WHERE s.tenant_id = ${caller.tenant_id} AND s.bucket >= ${rangeCol(lo)}
      AND s.bucket < ${rangeCol(hi)} ${notBotsOnly.length > 0 ? sql`AND ${notBotsOnly[0]}` : sql``}`;
  const segments: RawBuilder<unknown>[] = [];
  for (const p of periods) {
    const [f, t] = p === "cur" ? ["f", "t"] : ["pf", "pt"];
    const fineOf = (lo: string, hi: string, table: FineTable) =>
      table === "stats_total" ? total(p, lo, hi) : fine(p, lo, hi);
    if (plan.tier === "fine") {
      segments.push(fineOf(f, t, plan.table));
    } else {
      // Edges that are always empty are left out (fewer plans to make): a period starting at a
      // local midnight (a local date, a calendar or N-day interval) or ending at one or now.
      const interval = q.interval ?? (q.from ? undefined : "30d");
      const alignedStart =
        p === "cur"
          ? (q.from !== undefined && q.from.length === 10) ||
            (interval !== undefined && interval !== "24h" && interval !== "all")
          : interval !== undefined &&
            (CALENDAR[interval] !== undefined || ROLLING_DAYS[interval] !== undefined);
      const alignedEnd = p === "cur" && (q.to === undefined || q.to.length === 10);
      if (!alignedStart) segments.push(fineOf(f, `${p}_e1`, plan.edges));
      segments.push(daily(p, plan.dim, `${p}_d1`, `${p}_d2`));
      if (!alignedEnd) segments.push(fineOf(`${p}_e2`, t, plan.edges));
    }
  }
  const revenue = caller.role === "publisher" ? sql`'0'` : sql`sum(z.revenue)::text`;
  const groupRefs = groups.map((g) => sql.ref(`z.k_${g}`));
  const outerKeys = groups.map(
    (g) => sql`${keyExpr(g, tz, plan.tier).outer(sql.ref(`z.k_${g}`))} AS ${sql.ref(`k_${g}`)}`,
  );
  const result = await sql<StatsSqlRow>`
    SELECT z.period, z.currency, z.payout_currency,
      ${groups.length > 0 ? sql`${sql.join(outerKeys)},` : sql``}
      sum(z.clicks) AS clicks, sum(z.unique_clicks) AS unique_clicks, sum(z.valid_clicks) AS valid_clicks,
      sum(z.fraud_clicks) AS fraud_clicks, sum(z.pending_conversions) AS pending,
      sum(z.approved_conversions) AS approved, sum(z.rejected_conversions) AS rejected,
      ${revenue} AS revenue, sum(z.payout)::text AS payout
    FROM (${sql.join(segments, sql` UNION ALL `)}) z
    GROUP BY z.period, ${groups.length > 0 ? sql`${sql.join(groupRefs)},` : sql``} z.currency, z.payout_currency
  `
    .execute(db)
    .catch(refusedRange);
  const row = {
    f: bounds.f_utc as string,
    t: bounds.t_utc as string,
    pf: bounds.pf_utc as string,
    pt: bounds.pt_utc as string,
    data: result.rows,
  };
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
    // Each row counts in its group and in the totals (the groups partition the period).
    const targets = [p.total];
    if (groups.length > 0) {
      const keys: Record<string, string | null> = {};
      for (const g of groups) keys[g] = row[`k_${g}`] ?? null;
      const id = JSON.stringify(groups.map((g) => keys[g]));
      const acc = p.rows.get(id) ?? newAcc(keys);
      p.rows.set(id, acc);
      targets.push(acc);
    }
    for (const acc of targets) {
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

/**
 * Sets the network's time zone; Postgres must know it too (its tzdata converts the buckets). A
 * change rebuilds the network's daily tier from stats_q in the new zone, in the same transaction:
 * SHARE ROW EXCLUSIVE on stats_day makes the writers (ROW EXCLUSIVE, taken before their
 * statement's snapshot) wait for the commit, so every click is counted in exactly one zone's day
 * and readers keep reading the old days until then. It reads the network's whole stats_q (about
 * one row per click at high density): seconds per million rows, writers paused meanwhile.
 */
export async function updateNetworkTimezone(db: Kysely<Database>, tenantId: string, timezone: string) {
  const known = await sql<{ ok: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = ${timezone}) AS ok`.execute(db);
  if (!known.rows[0]?.ok) {
    throw new ApiError("INVALID_PARAMS", 'Invalid parameter "timezone": not a time zone this database knows');
  }
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom("tenants")
      .select("timezone")
      .where("id", "=", tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (current.timezone !== timezone) {
      await sql`LOCK TABLE stats_day IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
      await tx.updateTable("tenants").set({ timezone }).where("id", "=", tenantId).execute();
      await tx.deleteFrom("stats_day").where("tenant_id", "=", tenantId).execute();
      await rebuildDailyTier(tenantId).execute(tx);
    }
    return tx
      .selectFrom("tenants")
      .select(["id", "name", "timezone"])
      .where("id", "=", tenantId)
      .executeTakeFirstOrThrow();
  });
}

/**
 * Rebuilds the tables derived from stats_q (the daily tier in each network's zone, and the
 * 15-minute network totals) for every network, in one transaction. An upgrade step: after a
 * migration that reshaped them (013, 015) while older workers kept writing stats_q only, run it once
 * the new workers are deployed (`pnpm db:rebuild-rollups`). Writers wait for its commit (SHARE ROW
 * EXCLUSIVE, as a time zone change), so every click is counted exactly once in the rebuilt rows.
 */
export async function rebuildDerivedRollups(
  db: Kysely<Database>,
): Promise<{ day_rows: number; total_rows: number }> {
  return db.transaction().execute(async (tx) => {
    await sql`LOCK TABLE stats_day, stats_total IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
    await sql`DELETE FROM stats_day`.execute(tx);
    await sql`DELETE FROM stats_total`.execute(tx);
    await rebuildDailyTier().execute(tx);
    await rebuildTotals().execute(tx);
    const counts = await sql<{ day_rows: string; total_rows: string }>`
      SELECT (SELECT count(*) FROM stats_day) AS day_rows, (SELECT count(*) FROM stats_total) AS total_rows`.execute(
      tx,
    );
    const row = counts.rows[0];
    return { day_rows: Number(row?.day_rows ?? 0), total_rows: Number(row?.total_rows ?? 0) };
  });
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

/**
 * The fraud events of the range (raw fraud_events rows, by the (tenant_id, created_at) index): per
 * kind and per local day, the flagged clicks held for review, and the unverified clicks (the
 * partial index clicks_unverified). Both tables hold only the rare rows, not the traffic.
 */
async function fraudEventCounts(
  db: Kysely<Database>,
  caller: CallerScope,
  q: StatsRangeInput,
  zone: string,
  from: string,
  to: string,
) {
  const eventScope: RawBuilder<unknown>[] = [];
  const clickScope: RawBuilder<unknown>[] = [];
  if (caller.role === "publisher") {
    eventScope.push(sql`f.publisher_id = ${caller.publisher_id ?? "-"}`);
    clickScope.push(sql`k.publisher_id = ${caller.publisher_id ?? "-"}`);
  }
  if (caller.role === "advertiser") {
    eventScope.push(
      sql`f.offer_id IN (SELECT id FROM offers WHERE advertiser_id = ${caller.advertiser_id ?? "-"})`,
    );
    clickScope.push(sql`k.advertiser_id = ${caller.advertiser_id ?? "-"}`);
  }
  for (const [col, f] of [
    ["offer_id", q.offer_id],
    ["publisher_id", q.publisher_id],
  ] as const) {
    if (f?.include.length) {
      eventScope.push(sql`${sql.ref(`f.${col}`)} = ANY(${sql.val(f.include)}::text[])`);
      clickScope.push(sql`${sql.ref(`k.${col}`)} = ANY(${sql.val(f.include)}::text[])`);
    }
    if (f?.exclude.length) {
      eventScope.push(sql`NOT coalesce(${sql.ref(`f.${col}`)} = ANY(${sql.val(f.exclude)}::text[]), false)`);
      clickScope.push(sql`NOT coalesce(${sql.ref(`k.${col}`)} = ANY(${sql.val(f.exclude)}::text[]), false)`);
    }
  }
  const and = (list: RawBuilder<unknown>[]) =>
    list.length > 0 ? sql`AND ${sql.join(list, sql` AND `)}` : sql``;
  const result = await sql<{
    kinds: { day: string; kind: string; n: number }[] | null;
    held: number;
    unverified: number;
  }>`
    WITH ev AS (
      SELECT f.kind, f.click_id, (f.detail ->> 'held') = 'true' AS held,
        to_char((f.created_at AT TIME ZONE ${zone})::date, 'YYYY-MM-DD') AS day
      FROM fraud_events f
      WHERE f.tenant_id = ${caller.tenant_id} AND f.created_at >= ${from}::timestamptz
        AND f.created_at < ${to}::timestamptz ${and(eventScope)}
    )
    SELECT (SELECT json_agg(x ORDER BY x.day, x.kind) FROM (
        SELECT day, kind, count(*)::int AS n FROM ev GROUP BY day, kind) x) AS kinds,
      (SELECT count(DISTINCT click_id)::int FROM ev WHERE held AND click_id IS NOT NULL) AS held,
      (SELECT count(*)::int FROM clicks k WHERE k.tenant_id = ${caller.tenant_id} AND k.unverified
        AND k.created_at >= ${from}::timestamptz AND k.created_at < ${to}::timestamptz ${and(clickScope)}) AS unverified
  `.execute(db);
  const row = result.rows[0];
  const rules: Record<string, number> = {};
  const days = new Map<string, Record<string, number>>();
  for (const { day, kind, n } of row?.kinds ?? []) {
    rules[kind] = (rules[kind] ?? 0) + n;
    const d = days.get(day) ?? {};
    d[kind] = n;
    days.set(day, d);
  }
  return {
    rules,
    rules_over_time: [...days].map(([day, by_kind]) => ({ day, by_kind })),
    held_clicks: row?.held ?? 0,
    unverified_clicks: row?.unverified ?? 0,
  };
}

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
  const events = await fraudEventCounts(db, caller, q, zone, time.from, time.to);
  return {
    timezone: zone,
    from: time.from,
    to: time.to,
    totals,
    ...events,
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
