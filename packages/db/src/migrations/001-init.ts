// Core schema: tenants (networks), accounts, offers, tracking links, link-signing secrets, API
// keys, clicks, fraud events and daily rollups. Every row carries its tenant_id.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tenants (
      id text PRIMARY KEY,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE advertisers (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      name text NOT NULL,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
      require_strong_signature boolean NOT NULL DEFAULT false,
      postback_ip_allowlist text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX advertisers_tenant ON advertisers (tenant_id);

    CREATE TABLE publishers (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      name text NOT NULL,
      influencer_id text,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX publishers_tenant ON publishers (tenant_id);
    CREATE UNIQUE INDEX publishers_influencer ON publishers (tenant_id, influencer_id) WHERE influencer_id IS NOT NULL;

    CREATE TABLE users (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      email text NOT NULL,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('network_admin', 'advertiser', 'publisher')),
      advertiser_id text REFERENCES advertisers(id),
      publisher_id text REFERENCES publishers(id),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email ON users (lower(email));

    CREATE TABLE offers (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      advertiser_id text NOT NULL REFERENCES advertisers(id),
      name text NOT NULL,
      destination_url text NOT NULL,
      fallback_url text,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
      payout_type text NOT NULL DEFAULT 'cpa' CHECK (payout_type IN ('cpa', 'revshare')),
      payout_amount numeric(14, 4) NOT NULL DEFAULT 0,
      currency char(3) NOT NULL DEFAULT 'USD',
      allowed_countries text[] NOT NULL DEFAULT '{}',
      blocked_countries text[] NOT NULL DEFAULT '{}',
      link_ttl_seconds integer NOT NULL DEFAULT 300 CHECK (link_ttl_seconds BETWEEN 60 AND 86400),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX offers_tenant ON offers (tenant_id, advertiser_id);

    CREATE TABLE tracking_links (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      offer_id text NOT NULL REFERENCES offers(id),
      publisher_id text NOT NULL REFERENCES publishers(id),
      tracking_code text NOT NULL UNIQUE,
      short_code text UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (offer_id, publisher_id)
    );

    CREATE TABLE link_secrets (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      advertiser_id text NOT NULL REFERENCES advertisers(id),
      secret text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      -- null while current; set when rotated out, to now + the longest link TTL
      expires_at timestamptz
    );
    CREATE INDEX link_secrets_advertiser ON link_secrets (advertiser_id);

    CREATE TABLE api_keys (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      advertiser_id text NOT NULL REFERENCES advertisers(id),
      prefix text NOT NULL,
      key_hash text NOT NULL UNIQUE,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
      expires_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX api_keys_advertiser ON api_keys (advertiser_id);

    CREATE TABLE clicks (
      click_id text PRIMARY KEY,
      tenant_id text NOT NULL,
      tracking_code text NOT NULL,
      offer_id text NOT NULL,
      publisher_id text NOT NULL,
      advertiser_id text NOT NULL,
      created_at timestamptz NOT NULL,
      verdict text NOT NULL,
      source text NOT NULL DEFAULT 'redirect',
      country char(2),
      device text,
      os text,
      browser text,
      ip_hash text,
      sub1 text, sub2 text, sub3 text, sub4 text, sub5 text,
      referer text,
      inserted_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX clicks_offer_time ON clicks (tenant_id, offer_id, created_at);
    CREATE INDEX clicks_code_time ON clicks (tracking_code, created_at);

    CREATE TABLE fraud_events (
      id bigserial PRIMARY KEY,
      tenant_id text NOT NULL,
      kind text NOT NULL,
      click_id text,
      tracking_code text,
      offer_id text,
      publisher_id text,
      detail jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX fraud_events_click ON fraud_events (click_id, kind) WHERE click_id IS NOT NULL;
    CREATE INDEX fraud_events_tenant_time ON fraud_events (tenant_id, created_at);

    CREATE TABLE stats_daily (
      tenant_id text NOT NULL,
      day date NOT NULL,
      offer_id text NOT NULL,
      publisher_id text NOT NULL,
      clicks integer NOT NULL DEFAULT 0,
      valid_clicks integer NOT NULL DEFAULT 0,
      fraud_clicks integer NOT NULL DEFAULT 0,
      conversions integer NOT NULL DEFAULT 0,
      revenue numeric(16, 4) NOT NULL DEFAULT 0,
      payout numeric(16, 4) NOT NULL DEFAULT 0,
      PRIMARY KEY (day, offer_id, publisher_id)
    );
    CREATE INDEX stats_daily_tenant ON stats_daily (tenant_id, day);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS stats_daily, fraud_events, clicks, api_keys, link_secrets, tracking_links,
      offers, users, publishers, advertisers, tenants CASCADE;
  `.execute(db);
}
