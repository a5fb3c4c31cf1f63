// Applications to private offers: an offer may accept them (listed to every publisher of the
// network with "Apply"); the advertiser or a network admin approves one, which adds the publisher
// to the offer's allowed_publisher_ids, or rejects it. One application per publisher and offer.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE offers ADD COLUMN accepts_applications boolean NOT NULL DEFAULT false;

    CREATE TABLE offer_applications (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      offer_id text NOT NULL REFERENCES offers(id),
      publisher_id text NOT NULL REFERENCES publishers(id),
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
      message text,
      reason text,
      decided_by text REFERENCES users(id) ON DELETE SET NULL,
      decided_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (offer_id, publisher_id)
    );
    -- The decision queues (pending first, newest first) per network, and a publisher's own list.
    CREATE INDEX offer_applications_queue ON offer_applications (tenant_id, status, created_at DESC, id DESC);
    CREATE INDEX offer_applications_publisher ON offer_applications (publisher_id, created_at DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS offer_applications;
    ALTER TABLE offers DROP COLUMN IF EXISTS accepts_applications;
  `.execute(db);
}
