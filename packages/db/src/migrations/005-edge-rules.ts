// Edge rules per offer: what a short-link click counts as, who is the same visitor for dedupe and
// for how long; and the clicks counted while Redis was down (replay and dedupe unchecked).

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE offers
      ADD COLUMN short_link_policy text NOT NULL DEFAULT 'count_deduped'
        CHECK (short_link_policy IN ('count', 'count_deduped', 'do_not_count')),
      ADD COLUMN dedupe_mode text NOT NULL DEFAULT 'ip_ua' CHECK (dedupe_mode IN ('ip_ua', 'ip', 'off')),
      ADD COLUMN dedupe_window_seconds integer NOT NULL DEFAULT 86400
        CHECK (dedupe_window_seconds BETWEEN 60 AND 2592000);

    ALTER TABLE clicks ADD COLUMN unverified boolean NOT NULL DEFAULT false;
    CREATE INDEX clicks_unverified ON clicks (tenant_id, created_at) WHERE unverified;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS clicks_unverified;
    ALTER TABLE clicks DROP COLUMN IF EXISTS unverified;
    ALTER TABLE offers DROP COLUMN IF EXISTS short_link_policy, DROP COLUMN IF EXISTS dedupe_mode,
      DROP COLUMN IF EXISTS dedupe_window_seconds;
  `.execute(db);
}
