// Management API: user names, refresh tokens, invitations, and offer fields the dashboard edits
// (which publishers may see an offer, the postback IP allowlist per offer).

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE users ADD COLUMN name text;
    CREATE INDEX users_tenant ON users (tenant_id, created_at);

    -- Opaque refresh tokens, stored hashed; rotated on every use (replaced_by), so a stolen
    -- token used after its owner has refreshed is detected and the whole session revoked.
    CREATE TABLE refresh_tokens (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      replaced_by text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

    CREATE TABLE invitations (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('network_admin', 'advertiser', 'publisher')),
      advertiser_id text REFERENCES advertisers(id),
      publisher_id text REFERENCES publishers(id),
      token_hash text NOT NULL UNIQUE,
      invited_by text NOT NULL REFERENCES users(id),
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX invitations_tenant ON invitations (tenant_id, created_at);

    -- 'public': every publisher of the network may join; 'private': only allowed_publisher_ids.
    ALTER TABLE offers
      ADD COLUMN visibility text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
      ADD COLUMN allowed_publisher_ids text[] NOT NULL DEFAULT '{}',
      ADD COLUMN postback_ip_allowlist text[] NOT NULL DEFAULT '{}';
    CREATE INDEX offers_tenant_created ON offers (tenant_id, created_at);
    CREATE INDEX tracking_links_publisher ON tracking_links (publisher_id, created_at);
    CREATE INDEX tracking_links_offer ON tracking_links (offer_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS tracking_links_offer, tracking_links_publisher, offers_tenant_created, users_tenant;
    ALTER TABLE offers DROP COLUMN IF EXISTS visibility, DROP COLUMN IF EXISTS allowed_publisher_ids,
      DROP COLUMN IF EXISTS postback_ip_allowlist;
    DROP TABLE IF EXISTS invitations, refresh_tokens;
    ALTER TABLE users DROP COLUMN IF EXISTS name;
  `.execute(db);
}
