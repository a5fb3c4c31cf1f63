// An advertiser's optional maximum for the links of an offer (issue 13 #14). Unset, a publisher
// may sign links for any TTL of the seed's range (1 minute – 24 hours); link_ttl_seconds stays the
// TTL of links signed without one.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE offers
      ADD COLUMN max_link_ttl_seconds integer CHECK (max_link_ttl_seconds BETWEEN 60 AND 86400);
  `.execute(db);
  // Before this, an offer's link_ttl_seconds capped every link signed for it. Where an advertiser
  // set it (anything but the default 300 s), it stays their ceiling.
  await sql`UPDATE offers SET max_link_ttl_seconds = link_ttl_seconds WHERE link_ttl_seconds <> 300;`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE offers DROP COLUMN IF EXISTS max_link_ttl_seconds;`.execute(db);
}
