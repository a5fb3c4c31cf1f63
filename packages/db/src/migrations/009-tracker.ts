// The influencer tracker (streamtools): customers (a network's brands, with the public
// customer_code of widget URLs), their access keys (stored hashed), products (widget codes), the
// tracked events and their 15-minute counters. Depends on 001 only, so it may run before 007/008.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tracker_customers (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      customer_code text NOT NULL UNIQUE CHECK (customer_code ~ '^[a-z0-9][a-z0-9_]{0,62}$'),
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX tracker_customers_tenant ON tracker_customers (tenant_id);

    CREATE TABLE tracker_access_keys (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      customer_id text NOT NULL REFERENCES tracker_customers(id),
      prefix text NOT NULL,
      key_hash text NOT NULL UNIQUE,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX tracker_access_keys_tenant ON tracker_access_keys (tenant_id, customer_id);

    CREATE TABLE tracker_products (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      customer_id text NOT NULL REFERENCES tracker_customers(id),
      code text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_]{0,62}$'),
      name text NOT NULL,
      goal integer CHECK (goal > 0),
      display_style text NOT NULL DEFAULT 'bar' CHECK (display_style IN ('bar', 'counter', 'minimal')),
      anti_cheat boolean NOT NULL DEFAULT false,
      -- empty: every event type counts
      event_types text[] NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (customer_id, code)
    );
    CREATE INDEX tracker_products_tenant ON tracker_products (tenant_id);

    CREATE TABLE tracker_events (
      id text PRIMARY KEY,
      tenant_id text NOT NULL,
      customer_id text NOT NULL,
      product_id text NOT NULL,
      publisher_id text NOT NULL,
      influencer_id text NOT NULL,
      event_type text NOT NULL DEFAULT '',
      event_name text,
      campaign text NOT NULL DEFAULT '',
      medium text,
      source text,
      country char(2),
      device text,
      -- HMAC under a key derived from the UTC day (never the IP); set only when anti-cheat applies
      viewer_hash text,
      day date NOT NULL,
      counted boolean NOT NULL,
      filtered_reason text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX tracker_events_product ON tracker_events (product_id, publisher_id, created_at);
    CREATE INDEX tracker_events_tenant ON tracker_events (tenant_id, created_at);
    -- Anti-cheat without read-then-write: one counted event per viewer, product, influencer,
    -- event type and UTC day; a repeat meets this index and is stored as filtered.
    CREATE UNIQUE INDEX tracker_events_viewer_day ON tracker_events
      (product_id, publisher_id, event_type, day, viewer_hash) WHERE counted AND viewer_hash IS NOT NULL;

    CREATE TABLE tracker_rollups (
      tenant_id text NOT NULL,
      product_id text NOT NULL,
      publisher_id text NOT NULL,
      campaign text NOT NULL,
      event_type text NOT NULL,
      bucket timestamptz NOT NULL,
      counted integer NOT NULL DEFAULT 0,
      filtered integer NOT NULL DEFAULT 0,
      PRIMARY KEY (product_id, publisher_id, campaign, event_type, bucket)
    );
    CREATE INDEX tracker_rollups_tenant ON tracker_rollups (tenant_id, bucket);

    -- Running totals for widgets: campaign '' is every campaign. Written in the event's statement,
    -- so its RETURNING is the exact total after this event, in commit order.
    CREATE TABLE tracker_totals (
      tenant_id text NOT NULL,
      product_id text NOT NULL,
      publisher_id text NOT NULL,
      campaign text NOT NULL,
      counted bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (product_id, publisher_id, campaign)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS tracker_totals;
    DROP TABLE IF EXISTS tracker_rollups;
    DROP TABLE IF EXISTS tracker_events;
    DROP TABLE IF EXISTS tracker_products;
    DROP TABLE IF EXISTS tracker_access_keys;
    DROP TABLE IF EXISTS tracker_customers;
  `.execute(db);
}
