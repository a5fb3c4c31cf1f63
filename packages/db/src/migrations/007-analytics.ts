// Analytics (issue 9): rollups exact in every IANA time zone, the network's time zone, and the
// first-click-of-the-day table behind unique clicks.
//
// stats_q holds 15-minute UTC buckets with every dimension. Every current UTC offset is a multiple
// of 15 minutes (Asia/Kathmandu +05:45, Australia/Lord_Howe +10:30/+11), so any local hour, day,
// week or month is a whole number of these buckets; the query converts bucket starts with
// `AT TIME ZONE` (DST included: each bucket lands in the local day its start belongs to).
// stats_h holds 1-hour UTC buckets with only offer, publisher, country and verdict: the dashboard's
// common queries in a zone whose offsets are whole hours read it (4x fewer buckets and no
// device/os/browser/sub1 fan-out).
//
// Both are written by the writers, in the statement (or transaction) that writes the click or the
// conversion. stats_daily (the per-UTC-day view earlier code and tests read) is now a view over them.

import { type Kysely, sql } from "kysely";

const DIMENSIONS_Q = `offer_id, publisher_id, advertiser_id, country, device, os, browser, sub1, verdict,
  currency, payout_currency`;
const DIMENSIONS_H = "offer_id, publisher_id, advertiser_id, country, verdict, currency, payout_currency";

function rollupTable(name: string, dims: string, extra: string): string {
  return `
    CREATE TABLE ${name} (
      tenant_id text NOT NULL,
      bucket timestamptz NOT NULL,
      offer_id text NOT NULL,
      -- '' for a conversion credited to no publisher
      publisher_id text NOT NULL DEFAULT '',
      advertiser_id text NOT NULL,
      country text NOT NULL DEFAULT '',
      ${extra}
      -- the click's verdict; '' on conversion counters
      verdict text NOT NULL DEFAULT '',
      -- conversion counters only: revenue's and payout's currencies ('' on click counters)
      currency text NOT NULL DEFAULT '',
      payout_currency text NOT NULL DEFAULT '',
      clicks integer NOT NULL DEFAULT 0,
      unique_clicks integer NOT NULL DEFAULT 0,
      pending_conversions integer NOT NULL DEFAULT 0,
      approved_conversions integer NOT NULL DEFAULT 0,
      rejected_conversions integer NOT NULL DEFAULT 0,
      -- approved conversions' amounts, in currency / payout_currency
      revenue numeric(20, 4) NOT NULL DEFAULT 0,
      payout numeric(20, 4) NOT NULL DEFAULT 0,
      PRIMARY KEY (tenant_id, bucket, ${dims})
    );`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`
    ALTER TABLE tenants ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';

    ${rollupTable(
      "stats_q",
      DIMENSIONS_Q,
      `device text NOT NULL DEFAULT '', os text NOT NULL DEFAULT '',
      browser text NOT NULL DEFAULT '', sub1 text NOT NULL DEFAULT '',`,
    )}
    ${rollupTable("stats_h", DIMENSIONS_H, "")}

    -- Live counters: per UTC minute, per advertiser and publisher (role scoping), for
    -- GET /api/stats/live; only the last hours matter (retention purges the rest).
    CREATE TABLE stats_live (
      tenant_id text NOT NULL,
      minute timestamptz NOT NULL,
      advertiser_id text NOT NULL,
      publisher_id text NOT NULL DEFAULT '',
      clicks integer NOT NULL DEFAULT 0,
      valid_clicks integer NOT NULL DEFAULT 0,
      fraud_clicks integer NOT NULL DEFAULT 0,
      conversions integer NOT NULL DEFAULT 0,
      PRIMARY KEY (tenant_id, minute, advertiser_id, publisher_id)
    );
    -- A publisher's own view reads its rows only.
    CREATE INDEX stats_h_publisher ON stats_h (tenant_id, publisher_id, bucket);

    -- Unique clicks: the first click of a visitor (ip_hash) on a link (tracking_code) in a UTC day.
    -- Only the last few days matter (late queue deliveries); retention purges older rows.
    CREATE TABLE click_uniques (
      day date NOT NULL,
      tracking_code text NOT NULL,
      ip_hash text NOT NULL,
      PRIMARY KEY (day, tracking_code, ip_hash)
    );

    -- Counters written so far: the old per-UTC-day rollup, as 00:00 UTC buckets of both tables
    -- (a network upgrading keeps its totals; finer detail only exists from now on).
    INSERT INTO stats_q (tenant_id, bucket, offer_id, publisher_id, advertiser_id, clicks, approved_conversions,
      revenue, payout, currency, payout_currency)
    SELECT s.tenant_id, s.day::timestamp AT TIME ZONE 'UTC', s.offer_id, s.publisher_id, o.advertiser_id,
      0, s.conversions, s.revenue, s.payout, trim(o.currency), trim(o.currency)
    FROM stats_daily s JOIN offers o ON o.id = s.offer_id WHERE s.conversions <> 0 OR s.revenue <> 0 OR s.payout <> 0;
    INSERT INTO stats_q (tenant_id, bucket, offer_id, publisher_id, advertiser_id, verdict, clicks)
    SELECT s.tenant_id, s.day::timestamp AT TIME ZONE 'UTC', s.offer_id, s.publisher_id, o.advertiser_id, v.verdict, v.n
    FROM stats_daily s JOIN offers o ON o.id = s.offer_id,
      LATERAL (VALUES ('valid', s.valid_clicks), ('expired', s.fraud_clicks),
        ('not_counted', s.clicks - s.valid_clicks - s.fraud_clicks)) v(verdict, n)
    WHERE v.n <> 0;
    INSERT INTO stats_h SELECT tenant_id, bucket, ${DIMENSIONS_H}, sum(clicks), sum(unique_clicks),
      sum(pending_conversions), sum(approved_conversions), sum(rejected_conversions), sum(revenue), sum(payout)
    FROM stats_q GROUP BY tenant_id, bucket, ${DIMENSIONS_H};
    DROP TABLE stats_daily;

    -- The per-UTC-day counters of each (offer, publisher), as before 007: attributed conversions,
    -- approved, with revenue and payout in the offer's currency.
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
  `)
    .execute(db);
  await partitionClicks(db);
}

/**
 * clicks, partitioned by month of created_at (declarative range partitioning). A unique index of a
 * partitioned table must hold the partition key, so the primary key becomes (click_id, created_at):
 * exactly-once stays exact because a click's created_at is the edge's timestamp, carried in the
 * queued event and identical on every redelivery, so `ON CONFLICT (click_id, created_at)` catches
 * every redelivered click. Nothing references clicks by foreign key (conversions keep click_id as
 * text), so no constraint needs a unique click_id. A DEFAULT partition catches a click of a month
 * without its partition (retention.ts creates them months ahead, moving any such rows in).
 */
async function partitionClicks(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`
    ALTER TABLE clicks RENAME TO clicks_unpartitioned;
    ALTER INDEX clicks_pkey RENAME TO clicks_unpartitioned_pkey;
    DROP INDEX IF EXISTS clicks_offer_time, clicks_code_time, clicks_unverified;
    CREATE TABLE clicks (LIKE clicks_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      PARTITION BY RANGE (created_at);
    ALTER TABLE clicks ADD PRIMARY KEY (click_id, created_at);
    CREATE INDEX clicks_offer_time ON clicks (tenant_id, offer_id, created_at);
    CREATE INDEX clicks_code_time ON clicks (tracking_code, created_at);
    CREATE INDEX clicks_unverified ON clicks (tenant_id, created_at) WHERE unverified;
    -- GET /api/events and the exports: a tenant's clicks by time.
    CREATE INDEX clicks_tenant_time ON clicks (tenant_id, created_at, click_id);
    CREATE TABLE clicks_default PARTITION OF clicks DEFAULT;
  `)
    .execute(db);
  // A partition per month from the oldest click (or last month) to three months ahead.
  await sql
    .raw(`
    DO $$
    DECLARE m date;
    BEGIN
      m := date_trunc('month', least(coalesce((SELECT min(created_at) FROM clicks_unpartitioned), now()),
        now() - interval '1 month') AT TIME ZONE 'UTC')::date;
      WHILE m <= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)',
          'clicks_' || to_char(m, 'YYYY_MM'), m::timestamp AT TIME ZONE 'UTC',
          (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        m := (m + interval '1 month')::date;
      END LOOP;
    END $$;
    INSERT INTO clicks SELECT * FROM clicks_unpartitioned;
    DROP TABLE clicks_unpartitioned;
  `)
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`
    CREATE TABLE clicks_flat (LIKE clicks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
    INSERT INTO clicks_flat SELECT * FROM clicks;
    DROP TABLE clicks;
    ALTER TABLE clicks_flat RENAME TO clicks;
    ALTER TABLE clicks ADD PRIMARY KEY (click_id);
    CREATE INDEX clicks_offer_time ON clicks (tenant_id, offer_id, created_at);
    CREATE INDEX clicks_code_time ON clicks (tracking_code, created_at);
    CREATE INDEX clicks_unverified ON clicks (tenant_id, created_at) WHERE unverified;
    DROP VIEW IF EXISTS stats_daily;
    CREATE TABLE stats_daily (
      tenant_id text NOT NULL,
      day date NOT NULL,
      offer_id text NOT NULL,
      publisher_id text NOT NULL,
      clicks integer NOT NULL DEFAULT 0,
      valid_clicks integer NOT NULL DEFAULT 0,
      fraud_clicks integer NOT NULL DEFAULT 0,
      conversions integer NOT NULL DEFAULT 0,
      revenue numeric(20, 4) NOT NULL DEFAULT 0,
      payout numeric(20, 4) NOT NULL DEFAULT 0,
      PRIMARY KEY (day, offer_id, publisher_id)
    );
    CREATE INDEX stats_daily_tenant ON stats_daily (tenant_id, day);
    DROP TABLE IF EXISTS stats_q, stats_h, stats_live, click_uniques;
    ALTER TABLE tenants DROP COLUMN IF EXISTS timezone;
  `)
    .execute(db);
}
