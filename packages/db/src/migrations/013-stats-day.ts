// Analytics round 3 (issue 9): the daily tier in ONE table, written by one upsert per batch.
//
// 011 kept four daily tables (country, offer, publisher, offer × publisher), so every click batch
// ran four upserts, each with its own plan, index and lock set. stats_day holds the same rows with a
// `dim` discriminator (1 country, 2 offer, 3 publisher, 4 offer × publisher; the other key columns
// are ''), and the writers fill it with a single INSERT … SELECT … GROUP BY GROUPING SETS … ON
// CONFLICT (rollups.ts). `dim` leads the key after the tenant, so a query of one dimension reads one
// contiguous index range, as it read one table before.
//
// The rollups' text columns (ids, dimensions, currencies) use the "C" collation: their keys are
// compared byte-wise (memcmp) instead of through the locale, in every upsert's index descent, every
// GROUP BY and the bulk loads' index builds. Equality is the same (deterministic collations), and
// no answer depends on the rollups' sort order (the API orders its rows itself).

import { type Kysely, sql } from "kysely";

const MEASURES = `clicks, unique_clicks, valid_clicks, fraud_clicks, bot_clicks, bot_unique_clicks,
  pending_conversions, approved_conversions, rejected_conversions, revenue, payout`;

const STATS_Q_TEXT = [
  "tenant_id",
  "offer_id",
  "publisher_id",
  "advertiser_id",
  "country",
  "device",
  "os",
  "browser",
  "sub1",
  "verdict",
  "currency",
  "payout_currency",
];

/** stats_daily (011's view over stats_q) is dropped and made again around the column changes. */
const STATS_DAILY_VIEW = `
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
    GROUP BY 1, 2, 3, 4;`;

const OLD = [
  {
    table: "stats_day_country",
    dim: 1,
    cols: "'' AS offer_id, '' AS publisher_id, country, '' AS advertiser_id",
  },
  { table: "stats_day_offer", dim: 2, cols: "offer_id, '' AS publisher_id, '' AS country, advertiser_id" },
  {
    table: "stats_day_publisher",
    dim: 3,
    cols: "'' AS offer_id, publisher_id, '' AS country, '' AS advertiser_id",
  },
  {
    table: "stats_day_offer_publisher",
    dim: 4,
    cols: "offer_id, publisher_id, '' AS country, advertiser_id",
  },
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`
    DROP VIEW stats_daily;
    ALTER TABLE stats_q ${STATS_Q_TEXT.map((c) => `ALTER COLUMN ${c} TYPE text COLLATE "C"`).join(", ")};
    ${STATS_DAILY_VIEW}

    CREATE TABLE stats_day (
      tenant_id text COLLATE "C" NOT NULL,
      -- 1 country, 2 offer, 3 publisher, 4 offer × publisher (rollups.ts DAILY_DIMS)
      dim smallint NOT NULL,
      day date NOT NULL,
      offer_id text COLLATE "C" NOT NULL DEFAULT '',
      publisher_id text COLLATE "C" NOT NULL DEFAULT '',
      country text COLLATE "C" NOT NULL DEFAULT '',
      currency text COLLATE "C" NOT NULL DEFAULT '',
      payout_currency text COLLATE "C" NOT NULL DEFAULT '',
      -- follows offer_id (dims 2 and 4): an advertiser's scope
      advertiser_id text COLLATE "C" NOT NULL DEFAULT '',
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
      PRIMARY KEY (tenant_id, dim, day, offer_id, publisher_id, country, currency, payout_currency)
    ) WITH (fillfactor = 70);
    ${OLD.map(
      (
        o,
      ) => `INSERT INTO stats_day (tenant_id, dim, day, offer_id, publisher_id, country, advertiser_id, currency,
      payout_currency, ${MEASURES})
    SELECT tenant_id, ${o.dim}, day, ${o.cols}, currency, payout_currency, ${MEASURES} FROM ${o.table};`,
    ).join("\n    ")}
    DROP TABLE ${OLD.map((o) => o.table).join(", ")};
    ALTER TABLE stats_live ALTER COLUMN tenant_id TYPE text COLLATE "C",
      ALTER COLUMN advertiser_id TYPE text COLLATE "C", ALTER COLUMN publisher_id TYPE text COLLATE "C";
  `)
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const keys: Record<string, string> = {
    stats_day_country: "country",
    stats_day_offer: "offer_id",
    stats_day_publisher: "publisher_id",
    stats_day_offer_publisher: "offer_id, publisher_id",
  };
  await sql
    .raw(
      `${OLD.map((o) => {
        const k = keys[o.table] as string;
        const adv = o.dim === 2 || o.dim === 4;
        return `
    CREATE TABLE ${o.table} (
      tenant_id text NOT NULL,
      day date NOT NULL,
      ${k
        .split(", ")
        .map((c) => `${c} text NOT NULL DEFAULT ''`)
        .join(", ")},
      currency text NOT NULL DEFAULT '',
      payout_currency text NOT NULL DEFAULT '',
      ${adv ? "advertiser_id text NOT NULL DEFAULT ''," : ""}
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
      PRIMARY KEY (tenant_id, day, ${k}, currency, payout_currency)
    ) WITH (fillfactor = 70);
    INSERT INTO ${o.table} (tenant_id, day, ${k}, currency, payout_currency, ${adv ? "advertiser_id, " : ""}${MEASURES})
    SELECT tenant_id, day, ${k}, currency, payout_currency, ${adv ? "advertiser_id, " : ""}${MEASURES}
    FROM stats_day WHERE dim = ${o.dim};`;
      }).join("\n")}
    DROP TABLE stats_day;
    DROP VIEW stats_daily;
    ALTER TABLE stats_q ${STATS_Q_TEXT.map((c) => `ALTER COLUMN ${c} TYPE text COLLATE "default"`).join(", ")};
    ALTER TABLE stats_live ALTER COLUMN tenant_id TYPE text COLLATE "default",
      ALTER COLUMN advertiser_id TYPE text COLLATE "default", ALTER COLUMN publisher_id TYPE text COLLATE "default";
    ${STATS_DAILY_VIEW}`,
    )
    .execute(db);
}
