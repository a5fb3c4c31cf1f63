// Attribution rules per offer: a window after the click within which a conversion is credited, and a
// cap on conversions paid per click and event type, with the slots that enforce it race-free.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE offers
      ADD COLUMN attribution_window_days integer NOT NULL DEFAULT 30
        CHECK (attribution_window_days BETWEEN 1 AND 365),
      ADD COLUMN conversions_per_click integer NOT NULL DEFAULT 1
        CHECK (conversions_per_click BETWEEN 1 AND 100);

    ALTER TABLE conversions ADD COLUMN event_type text NOT NULL DEFAULT 'conversion';
    ALTER TABLE conversions DROP CONSTRAINT conversions_attribution_check;
    ALTER TABLE conversions ADD CONSTRAINT conversions_attribution_check CHECK (attribution IN
      ('click', 'no_click', 'click_not_found', 'click_of_other_advertiser', 'click_not_counted',
       'click_too_old', 'click_cap_reached', 'publisher_not_eligible'));

    -- The transactions credited on a click, per event type: the cap is decided on this row's lock.
    CREATE TABLE click_conversion_slots (
      click_id text NOT NULL,
      event_type text NOT NULL,
      tenant_id text NOT NULL,
      transaction_ids text[] NOT NULL,
      PRIMARY KEY (click_id, event_type)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS click_conversion_slots;
    ALTER TABLE conversions DROP CONSTRAINT conversions_attribution_check;
    ALTER TABLE conversions ADD CONSTRAINT conversions_attribution_check CHECK (attribution IN
      ('click', 'no_click', 'click_not_found', 'click_of_other_advertiser', 'click_not_counted'));
    ALTER TABLE conversions DROP COLUMN IF EXISTS event_type;
    ALTER TABLE offers DROP COLUMN IF EXISTS attribution_window_days,
      DROP COLUMN IF EXISTS conversions_per_click;
  `.execute(db);
}
