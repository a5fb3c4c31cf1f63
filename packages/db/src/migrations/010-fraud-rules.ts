// Event types an offer pays (closing the cap bypass of caller-chosen event types), and fraud rules per offer (datacenter traffic, click frequency caps, click-to-conversion time bounds,
// each with an action) and what they leave on a click: the rules that fired, and whether its
// conversions are held for review. Partial rules are stored; absent keys take the defaults in code.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE offers ADD COLUMN fraud_rules jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN paid_event_types text[] NOT NULL DEFAULT '{}';

    ALTER TABLE conversions DROP CONSTRAINT conversions_attribution_check;
    ALTER TABLE conversions ADD CONSTRAINT conversions_attribution_check CHECK (attribution IN
      ('click', 'no_click', 'click_not_found', 'click_of_other_advertiser', 'click_not_counted',
       'click_too_old', 'click_cap_reached', 'publisher_not_eligible', 'event_type_not_paid'));

    -- The per-click cap is now shared by every event type (key '*') unless the offer lists its paid
    -- types. Every conversion already credited to a click (also those from before 004, which took
    -- no slot) takes its place in both kinds of slot, so no click earns more after this migration.
    INSERT INTO click_conversion_slots AS s (click_id, event_type, tenant_id, transaction_ids)
    SELECT click_id, k, min(tenant_id), array_agg(transaction_id ORDER BY created_at)
    FROM conversions, LATERAL (VALUES ('*'), (event_type)) AS keys(k)
    WHERE click_id IS NOT NULL AND attribution = 'click' AND status <> 'rejected'
    GROUP BY click_id, k
    ON CONFLICT (click_id, event_type) DO UPDATE SET transaction_ids = ARRAY(
      SELECT DISTINCT unnest(s.transaction_ids || excluded.transaction_ids));
    ALTER TABLE clicks
      ADD COLUMN flags text[] NOT NULL DEFAULT '{}',
      ADD COLUMN held boolean NOT NULL DEFAULT false;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE clicks DROP COLUMN IF EXISTS flags, DROP COLUMN IF EXISTS held;
    DELETE FROM click_conversion_slots WHERE event_type = '*';
    ALTER TABLE offers DROP COLUMN IF EXISTS fraud_rules, DROP COLUMN IF EXISTS paid_event_types;
  `.execute(db);
}
