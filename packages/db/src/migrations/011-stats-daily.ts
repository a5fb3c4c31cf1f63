// Analytics round 2 (issue 9): a daily tier in the network's time zone for the common dashboard
// queries, and a cheaper write path.
//
// stats_day_* hold per-tenant counters per LOCAL day (the tenant's `timezone`), one narrow table
// per dimension the dashboards group or scope by: country (also the network's plain totals by
// day/week/month), offer (also an advertiser's scope), publisher (a publisher's own view), and
// offer × publisher (an advertiser's or a publisher's view grouped or filtered by the other).
// A 30-day query reads ~30 × cardinality rows instead of one row per click. The writers upsert
// them in the statement that writes the click or conversion (rollups.ts); a time zone change
// rebuilds a tenant's rows from stats_q (stats.ts). Verdicts are folded into columns (valid,
// fraud, bot) so a day has one click row per key; conversion counters keep their currency pair.
//
// stats_h (hourly UTC, offer × publisher × country × verdict) goes: the daily tier answers what it
// answered faster, and every write saved one upsert of ~one new row per click (and two indexes).
// stats_daily (the per-UTC-day view older tests read) is redefined over stats_q.
//
// fillfactor 70 on the daily tables: their rows are updated in place many times a day, and free
// space on the page lets Postgres make those HOT updates (the counters are not indexed).

import { type Kysely, sql } from "kysely";

const MEASURES = `
  clicks integer NOT NULL DEFAULT 0,
  unique_clicks integer NOT NULL DEFAULT 0,
  valid_clicks integer NOT NULL DEFAULT 0,
  fraud_clicks integer NOT NULL DEFAULT 0,
  -- clicks with the bot verdict (already in clicks/unique_clicks; subtracted unless include_bots)
  bot_clicks integer NOT NULL DEFAULT 0,
  bot_unique_clicks integer NOT NULL DEFAULT 0,
  pending_conversions integer NOT NULL DEFAULT 0,
  approved_conversions integer NOT NULL DEFAULT 0,
  rejected_conversions integer NOT NULL DEFAULT 0,
  revenue numeric(20, 4) NOT NULL DEFAULT 0,
  payout numeric(20, 4) NOT NULL DEFAULT 0`;

/** Daily tables: key columns (after tenant_id, day) and whether advertiser_id rides along (it follows offer_id). */
export const DAILY_TABLES_011 = {
  stats_day_country: { keys: ["country"], advertiser: false },
  stats_day_offer: { keys: ["offer_id"], advertiser: true },
  stats_day_publisher: { keys: ["publisher_id"], advertiser: false },
  stats_day_offer_publisher: { keys: ["offer_id", "publisher_id"], advertiser: true },
} as const;

function createDaily(name: string, keys: readonly string[], advertiser: boolean): string {
  return `
    CREATE TABLE ${name} (
      tenant_id text NOT NULL,
      day date NOT NULL,
      ${keys.map((k) => `${k} text NOT NULL DEFAULT ''`).join(",\n      ")},
      currency text NOT NULL DEFAULT '',
      payout_currency text NOT NULL DEFAULT '',
      ${advertiser ? "advertiser_id text NOT NULL DEFAULT ''," : ""}
      ${MEASURES},
      PRIMARY KEY (tenant_id, day, ${keys.join(", ")}, currency, payout_currency)
    ) WITH (fillfactor = 70);`;
}

/** The daily rows of everything already in stats_q, each tenant in its own zone. */
function backfillDaily(name: string, keys: readonly string[], advertiser: boolean): string {
  const cols = [...keys, "currency", "payout_currency"];
  return `
    INSERT INTO ${name} (tenant_id, day, ${cols.join(", ")}, ${advertiser ? "advertiser_id, " : ""}
      clicks, unique_clicks, valid_clicks, fraud_clicks, bot_clicks, bot_unique_clicks,
      pending_conversions, approved_conversions, rejected_conversions, revenue, payout)
    SELECT s.tenant_id, (s.bucket AT TIME ZONE t.timezone)::date, ${cols.map((c) => `s.${c}`).join(", ")},
      ${advertiser ? "min(s.advertiser_id), " : ""}
      sum(s.clicks), sum(s.unique_clicks),
      coalesce(sum(s.clicks) FILTER (WHERE s.verdict IN ('valid', 'legacy')), 0),
      coalesce(sum(s.clicks) FILTER (WHERE s.verdict IN ('expired', 'replay', 'invalid_signature', 'geo_blocked', 'datacenter',
        'frequency_cap')), 0),
      coalesce(sum(s.clicks) FILTER (WHERE s.verdict = 'bot'), 0),
      coalesce(sum(s.unique_clicks) FILTER (WHERE s.verdict = 'bot'), 0),
      sum(s.pending_conversions), sum(s.approved_conversions), sum(s.rejected_conversions), sum(s.revenue),
      sum(s.payout)
    FROM stats_q s JOIN tenants t ON t.id = s.tenant_id
    GROUP BY 1, 2, ${cols.map((_, i) => i + 3).join(", ")};`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const tables = Object.entries(DAILY_TABLES_011);
  await sql
    .raw(`
    ${tables.map(([name, t]) => createDaily(name, t.keys, t.advertiser)).join("\n")}
    ${tables.map(([name, t]) => backfillDaily(name, t.keys, t.advertiser)).join("\n")}

    DROP VIEW stats_daily;
    DROP TABLE stats_h;
    CREATE VIEW stats_daily AS
    SELECT s.tenant_id, (s.bucket AT TIME ZONE 'UTC')::date AS day, s.offer_id, s.publisher_id,
      sum(s.clicks)::integer AS clicks,
      (sum(s.clicks) FILTER (WHERE s.verdict IN ('valid', 'legacy')))::integer AS valid_clicks,
      (sum(s.clicks) FILTER (WHERE s.verdict IN ('expired', 'replay', 'invalid_signature', 'geo_blocked',
        'datacenter', 'frequency_cap')))::integer AS fraud_clicks,
      sum(s.approved_conversions)::integer AS conversions,
      coalesce(sum(s.revenue) FILTER (WHERE s.currency = trim(o.currency)), 0)::numeric(20, 4) AS revenue,
      coalesce(sum(s.payout) FILTER (WHERE s.payout_currency = trim(o.currency)), 0)::numeric(20, 4) AS payout
    FROM stats_q s JOIN offers o ON o.id = s.offer_id
    WHERE s.publisher_id <> ''
    GROUP BY 1, 2, 3, 4;
  `)
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`
    DROP VIEW stats_daily;
    CREATE TABLE stats_h (
      tenant_id text NOT NULL,
      bucket timestamptz NOT NULL,
      offer_id text NOT NULL,
      publisher_id text NOT NULL DEFAULT '',
      advertiser_id text NOT NULL,
      country text NOT NULL DEFAULT '',
      verdict text NOT NULL DEFAULT '',
      currency text NOT NULL DEFAULT '',
      payout_currency text NOT NULL DEFAULT '',
      clicks integer NOT NULL DEFAULT 0,
      unique_clicks integer NOT NULL DEFAULT 0,
      pending_conversions integer NOT NULL DEFAULT 0,
      approved_conversions integer NOT NULL DEFAULT 0,
      rejected_conversions integer NOT NULL DEFAULT 0,
      revenue numeric(20, 4) NOT NULL DEFAULT 0,
      payout numeric(20, 4) NOT NULL DEFAULT 0,
      PRIMARY KEY (tenant_id, bucket, offer_id, publisher_id, advertiser_id, country, verdict, currency, payout_currency)
    );
    CREATE INDEX stats_h_publisher ON stats_h (tenant_id, publisher_id, bucket);
    INSERT INTO stats_h SELECT tenant_id, date_bin('1 hour', bucket, timestamptz 'epoch'), offer_id, publisher_id,
      advertiser_id, country, verdict, currency, payout_currency, sum(clicks), sum(unique_clicks),
      sum(pending_conversions), sum(approved_conversions), sum(rejected_conversions), sum(revenue), sum(payout)
    FROM stats_q GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
    CREATE VIEW stats_daily AS
    SELECT s.tenant_id, (s.bucket AT TIME ZONE 'UTC')::date AS day, s.offer_id, s.publisher_id,
      sum(s.clicks)::integer AS clicks,
      (sum(s.clicks) FILTER (WHERE s.verdict IN ('valid', 'legacy')))::integer AS valid_clicks,
      (sum(s.clicks) FILTER (WHERE s.verdict IN ('expired', 'replay', 'invalid_signature', 'geo_blocked')))::integer
        AS fraud_clicks,
      sum(s.approved_conversions)::integer AS conversions,
      coalesce(sum(s.revenue) FILTER (WHERE s.currency = trim(o.currency)), 0)::numeric(20, 4) AS revenue,
      coalesce(sum(s.payout) FILTER (WHERE s.payout_currency = trim(o.currency)), 0)::numeric(20, 4) AS payout
    FROM stats_h s JOIN offers o ON o.id = s.offer_id
    WHERE s.publisher_id <> ''
    GROUP BY 1, 2, 3, 4;
    DROP TABLE stats_day_country, stats_day_offer, stats_day_publisher, stats_day_offer_publisher;
  `)
    .execute(db);
}
