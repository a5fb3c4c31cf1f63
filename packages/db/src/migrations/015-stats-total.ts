// Analytics round 3 (issue 9): network totals per 15-minute UTC bucket, no dimension.
//
// stats_q holds about one row per click at high density (every dimension), so a query that needs
// no dimension but a finer cut than the daily tier (the previous period's partial day of "this
// month vs last month", hours, another zone's days) read ~100 k rows per day of traffic. stats_total
// holds, per tenant and 15-minute bucket, one click row and one row per currency pair, verdicts
// folded into columns like stats_day: 96 buckets a day whatever the volume, exact in every IANA zone
// (every UTC offset is a multiple of 15 minutes). The writers upsert it in the same statement as
// the other rollups (rollups.ts); a network admin's unfiltered queries read it. Neither it nor the
// daily tier is scanned in parallel (see the end of up()).

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`
    CREATE TABLE stats_total (
      tenant_id text COLLATE "C" NOT NULL,
      bucket timestamptz NOT NULL,
      currency text COLLATE "C" NOT NULL DEFAULT '',
      payout_currency text COLLATE "C" NOT NULL DEFAULT '',
      clicks integer NOT NULL DEFAULT 0,
      unique_clicks integer NOT NULL DEFAULT 0,
      valid_clicks integer NOT NULL DEFAULT 0,
      fraud_clicks integer NOT NULL DEFAULT 0,
      bot_clicks integer NOT NULL DEFAULT 0,
      bot_unique_clicks integer NOT NULL DEFAULT 0,
      pending_conversions integer NOT NULL DEFAULT 0,
      approved_conversions integer NOT NULL DEFAULT 0,
      rejected_conversions integer NOT NULL DEFAULT 0,
      revenue numeric(20, 4) NOT NULL DEFAULT 0,
      payout numeric(20, 4) NOT NULL DEFAULT 0,
      PRIMARY KEY (tenant_id, bucket, currency, payout_currency)
    ) WITH (fillfactor = 70);
    INSERT INTO stats_total (tenant_id, bucket, currency, payout_currency, clicks, unique_clicks, valid_clicks,
      fraud_clicks, bot_clicks, bot_unique_clicks, pending_conversions, approved_conversions, rejected_conversions,
      revenue, payout)
    SELECT tenant_id, bucket, currency, payout_currency, sum(clicks), sum(unique_clicks),
      coalesce(sum(clicks) FILTER (WHERE verdict IN ('valid', 'legacy')), 0),
      coalesce(sum(clicks) FILTER (WHERE verdict IN ('expired', 'replay', 'invalid_signature', 'geo_blocked',
        'datacenter', 'frequency_cap')), 0),
      coalesce(sum(clicks) FILTER (WHERE verdict = 'bot'), 0),
      coalesce(sum(unique_clicks) FILTER (WHERE verdict = 'bot'), 0),
      sum(pending_conversions), sum(approved_conversions), sum(rejected_conversions), sum(revenue), sum(payout)
    FROM stats_q GROUP BY 1, 2, 3, 4;

    -- The dashboards' reads of these two are a few thousand rows: starting parallel workers costs
    -- more than it saves (a Gather of 3 k rows took 18 of its 22 ms on a busy 2-core box).
    ALTER TABLE stats_total SET (parallel_workers = 0);
    ALTER TABLE stats_day SET (parallel_workers = 0);
  `)
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("DROP TABLE stats_total; ALTER TABLE stats_day RESET (parallel_workers);").execute(db);
}
