// Ingestion: conversions (unique per advertiser and transaction_id) with their status history,
// per-key signing secrets for v2 request signatures, and SDK metadata on clicks.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- v2 request signatures: a per-key secret shown once at creation and never sent on requests.
    ALTER TABLE api_keys ADD COLUMN signing_secret text;

    ALTER TABLE clicks
      ADD COLUMN sdk_version text,
      ADD COLUMN sdk_platform text,
      ADD COLUMN sdk_meta jsonb;

    -- Rollups sum money over many conversions; give them headroom beyond one conversion's maximum.
    ALTER TABLE stats_daily
      ALTER COLUMN revenue TYPE numeric(20, 4),
      ALTER COLUMN payout TYPE numeric(20, 4);

    CREATE TABLE conversions (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      advertiser_id text NOT NULL REFERENCES advertisers(id),
      offer_id text NOT NULL REFERENCES offers(id),
      transaction_id text NOT NULL,
      -- the attributed click and its publisher; null when not attributed
      click_id text,
      publisher_id text,
      tracking_code text,
      click_verdict text,
      -- what the advertiser sent, and why it was or was not attributed
      reported_click_id text,
      attribution text NOT NULL CHECK (attribution IN
        ('click', 'no_click', 'click_not_found', 'click_of_other_advertiser', 'click_not_counted')),
      status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
      amount numeric(14, 4) NOT NULL DEFAULT 0,
      currency char(3) NOT NULL DEFAULT 'USD',
      payout numeric(18, 4) NOT NULL DEFAULT 0,
      payout_currency char(3) NOT NULL DEFAULT 'USD',
      -- whether amount/payout entered stats_daily (only in the offer's currency)
      revenue_in_rollup boolean NOT NULL DEFAULT false,
      payout_in_rollup boolean NOT NULL DEFAULT false,
      source text NOT NULL CHECK (source IN ('postback', 'sdk', 'batch')),
      api_key_id text,
      user_id text,
      device_info jsonb,
      custom_params jsonb,
      metadata jsonb,
      sdk_version text,
      sdk_platform text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX conversions_transaction ON conversions (advertiser_id, transaction_id);
    CREATE INDEX conversions_offer_time ON conversions (tenant_id, offer_id, created_at);
    CREATE INDEX conversions_click ON conversions (click_id) WHERE click_id IS NOT NULL;

    CREATE TABLE conversion_status_history (
      id bigserial PRIMARY KEY,
      conversion_id text NOT NULL REFERENCES conversions(id) ON DELETE CASCADE,
      tenant_id text NOT NULL,
      from_status text,
      to_status text NOT NULL,
      reason text,
      source text NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX conversion_status_history_conversion ON conversion_status_history (conversion_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS conversion_status_history, conversions;
    ALTER TABLE clicks DROP COLUMN IF EXISTS sdk_version, DROP COLUMN IF EXISTS sdk_platform,
      DROP COLUMN IF EXISTS sdk_meta;
    ALTER TABLE api_keys DROP COLUMN IF EXISTS signing_secret;
  `.execute(db);
}
