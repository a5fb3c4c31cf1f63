// Webhooks and publisher postback URLs (issue 10): endpoints of both kinds in one table (one
// delivery engine, one log), their signing secrets (several active during a rotation), and the
// delivery log: one row per event × endpoint, keyed by the stable webhook-id, plus every attempt.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- kind 'webhook': JSON body signed per Standard Webhooks; kind 'postback': a publisher's macro
    -- URL (GET or POST). Owned by an advertiser (their conversions) or a publisher (theirs).
    CREATE TABLE webhook_endpoints (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      kind text NOT NULL CHECK (kind IN ('webhook', 'postback')),
      owner_type text NOT NULL CHECK (owner_type IN ('advertiser', 'publisher')),
      advertiser_id text REFERENCES advertisers(id),
      publisher_id text REFERENCES publishers(id),
      url text NOT NULL,
      method text NOT NULL DEFAULT 'POST' CHECK (method IN ('GET', 'POST')),
      description text,
      events text[] NOT NULL DEFAULT '{}',
      statuses text[] NOT NULL DEFAULT '{}',
      fire_on text NOT NULL DEFAULT 'all' CHECK (fire_on IN ('all', 'first')),
      offer_id text REFERENCES offers(id),
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      failing_since timestamptz,
      deleted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((owner_type = 'advertiser' AND advertiser_id IS NOT NULL AND publisher_id IS NULL)
        OR (owner_type = 'publisher' AND publisher_id IS NOT NULL AND advertiser_id IS NULL))
    );
    CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, created_at);
    CREATE INDEX webhook_endpoints_advertiser ON webhook_endpoints (advertiser_id) WHERE deleted_at IS NULL;
    CREATE INDEX webhook_endpoints_publisher ON webhook_endpoints (publisher_id) WHERE deleted_at IS NULL;

    -- The delivery worker must compute the HMAC, so secrets are stored (like API keys' signing
    -- secrets); they are shown once and never returned or logged afterwards.
    CREATE TABLE webhook_secrets (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      endpoint_id text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      secret text NOT NULL,
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (endpoint_id, created_at);

    -- id is the webhook-id, derived from (event id, endpoint id): a redelivered event inserts nothing.
    CREATE TABLE webhook_deliveries (
      id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      endpoint_id text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      event_id text NOT NULL,
      event_type text NOT NULL,
      conversion_id text,
      payload text NOT NULL,
      request_method text NOT NULL,
      request_url text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempt_count integer NOT NULL DEFAULT 0,
      last_response_status integer,
      next_attempt_at timestamptz,
      locked_until timestamptz,
      succeeded_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
    CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (endpoint_id, status, created_at);

    CREATE TABLE webhook_attempts (
      id bigserial PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants(id),
      delivery_id text NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
      attempt integer NOT NULL,
      trigger text NOT NULL CHECK (trigger IN ('scheduled', 'resend', 'recover')),
      request_method text NOT NULL,
      request_url text NOT NULL,
      request_headers jsonb NOT NULL,
      request_body text,
      response_status integer,
      response_body text,
      error text,
      latency_ms integer NOT NULL,
      next_attempt_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS webhook_attempts, webhook_deliveries, webhook_secrets, webhook_endpoints;`.execute(
    db,
  );
}
