// Kysely table types; they mirror migrations/ and are the only place column names are spelled.

import type { DedupeMode, FraudRules, ShortLinkPolicy } from "@afftrack/core";
import type { ColumnType, Generated } from "kysely";
import type { AnalyticsTables } from "./analytics-schema";
import type { ApplicationTables } from "./applications-schema";
import type { TrackerTables } from "./tracker-schema";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Numeric = ColumnType<string, number | string, number | string>;

export interface TenantsTable {
  id: string;
  name: string;
  /** 007-analytics: the network's IANA time zone, the stats' default. */
  timezone: ColumnType<string, string | undefined>;
  created_at: Timestamp;
}

export interface AdvertisersTable {
  id: string;
  tenant_id: string;
  name: string;
  status: ColumnType<"active" | "suspended", "active" | "suspended" | undefined>;
  require_strong_signature: ColumnType<boolean, boolean | undefined>;
  postback_ip_allowlist: ColumnType<string[], string[] | undefined>;
  created_at: Timestamp;
}

export interface PublishersTable {
  id: string;
  tenant_id: string;
  name: string;
  influencer_id: string | null;
  status: ColumnType<"active" | "suspended", "active" | "suspended" | undefined>;
  created_at: Timestamp;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  role: "network_admin" | "advertiser" | "publisher";
  advertiser_id: string | null;
  publisher_id: string | null;
  /** 003-management */
  name: ColumnType<string | null, string | null | undefined>;
  created_at: Timestamp;
}

export type OfferStatus = "active" | "paused" | "archived";

export interface OffersTable {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  name: string;
  destination_url: string;
  fallback_url: string | null;
  status: ColumnType<OfferStatus, OfferStatus | undefined>;
  payout_type: ColumnType<"cpa" | "revshare", "cpa" | "revshare" | undefined>;
  payout_amount: Numeric;
  currency: ColumnType<string, string | undefined>;
  allowed_countries: ColumnType<string[], string[] | undefined>;
  blocked_countries: ColumnType<string[], string[] | undefined>;
  link_ttl_seconds: ColumnType<number, number | undefined>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** 003-management: "private" offers are open only to allowed_publisher_ids. */
  visibility: ColumnType<"public" | "private", "public" | "private" | undefined>;
  allowed_publisher_ids: ColumnType<string[], string[] | undefined>;
  postback_ip_allowlist: ColumnType<string[], string[] | undefined>;
  /** 004-attribution-rules: conversions on clicks older than this are not attributed (1–365). */
  attribution_window_days: ColumnType<number, number | undefined>;
  /** 004-attribution-rules: conversions paid per click and event type (1–100). */
  conversions_per_click: ColumnType<number, number | undefined>;
  /** 005-edge-rules: what a short-link click counts as, and who is the same visitor for dedupe. */
  short_link_policy: ColumnType<ShortLinkPolicy, ShortLinkPolicy | undefined>;
  dedupe_mode: ColumnType<DedupeMode, DedupeMode | undefined>;
  dedupe_window_seconds: ColumnType<number, number | undefined>;
  /** 010: event types paid, each with its own per-click cap; empty: any, sharing one cap. */
  paid_event_types: ColumnType<string[], string[] | undefined, string[]>;
  /** Partial FraudRules (core); absent keys take DEFAULT_FRAUD_RULES. */
  fraud_rules: ColumnType<Partial<FraudRules>, string | undefined, string>;
  /** 006-link-ttl: the advertiser's maximum link TTL (null: the seed's 24 hours). */
  max_link_ttl_seconds: ColumnType<number | null, number | null | undefined>;
  /** 014: a private offer listed to every publisher of the network, who may apply to it. */
  accepts_applications: ColumnType<boolean, boolean | undefined>;
}

/** 003-management: rotating refresh tokens (stored hashed). */
export interface RefreshTokensTable {
  id: string;
  tenant_id: string;
  user_id: string;
  token_hash: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined>;
  replaced_by: string | null;
  created_at: Timestamp;
}

/** 003-management: invitations of users into a network (token stored hashed). */
export interface InvitationsTable {
  id: string;
  tenant_id: string;
  email: string;
  role: "network_admin" | "advertiser" | "publisher";
  advertiser_id: string | null;
  publisher_id: string | null;
  token_hash: string;
  invited_by: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  accepted_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
}

export interface TrackingLinksTable {
  id: string;
  tenant_id: string;
  offer_id: string;
  publisher_id: string;
  tracking_code: string;
  short_code: string | null;
  created_at: Timestamp;
}

export interface LinkSecretsTable {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  secret: string;
  created_at: Timestamp;
  expires_at: ColumnType<Date | null, Date | string | null | undefined>;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  prefix: string;
  key_hash: string;
  status: ColumnType<"active" | "revoked", "active" | "revoked" | undefined>;
  expires_at: ColumnType<Date | null, Date | string | null | undefined>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
  /** v2 request signatures (002-ingestion); null for keys issued without one. */
  signing_secret: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ClicksTable {
  click_id: string;
  tenant_id: string;
  tracking_code: string;
  offer_id: string;
  publisher_id: string;
  advertiser_id: string;
  created_at: Timestamp;
  verdict: string;
  source: ColumnType<string, string | undefined>;
  country: string | null;
  device: string | null;
  os: string | null;
  browser: string | null;
  ip_hash: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  referer: string | null;
  inserted_at: Timestamp;
  /** SDK clicks only (002-ingestion). */
  sdk_version: ColumnType<string | null, string | null | undefined, string | null>;
  sdk_platform: ColumnType<string | null, string | null | undefined, string | null>;
  sdk_meta: ColumnType<unknown, string | null | undefined, string | null>;
  /** 005-edge-rules: counted while Redis was down (replay and dedupe unchecked). */
  unverified: ColumnType<boolean, boolean | undefined>;
  /** Fraud rules that fired on the click (ClickFlag names), whatever their action. */
  flags: ColumnType<string[], string[] | undefined, string[]>;
  /** A fired rule's action was `hold`: conversions on the click wait as pending. */
  held: ColumnType<boolean, boolean | undefined>;
}

export interface FraudEventsTable {
  id: Generated<string>;
  tenant_id: string;
  kind: string;
  click_id: string | null;
  tracking_code: string | null;
  offer_id: string | null;
  publisher_id: string | null;
  detail: ColumnType<unknown, string | undefined>;
  created_at: Timestamp;
}

/** 011-stats-daily: a view over stats_q (per UTC day, attributed, in the offer's currency). */
export interface StatsDailyTable {
  tenant_id: string;
  day: ColumnType<string, string, string>;
  offer_id: string;
  publisher_id: string;
  clicks: number;
  valid_clicks: number;
  fraud_clicks: number;
  conversions: number;
  revenue: Numeric;
  payout: Numeric;
}

export type ConversionAttribution =
  | "click"
  | "no_click"
  | "click_not_found"
  | "click_of_other_advertiser"
  /** The click exists but was not counted (expired, replay, bot, ...): recorded, paid to no one. */
  | "click_not_counted"
  /** 004: the click is older than the offer's attribution window. */
  | "click_too_old"
  /** 004: the click already has the offer's conversions_per_click of this event type. */
  | "click_cap_reached"
  /** 004: the click's publisher is suspended or no longer admitted to the (private) offer. */
  | "publisher_not_eligible"
  /** 010: the offer lists paid_event_types and this conversion's event type is not one of them. */
  | "event_type_not_paid";

/** 002-ingestion: one row per advertiser and transaction_id (unique index). */
export interface ConversionsTable {
  id: string;
  tenant_id: string;
  advertiser_id: string;
  offer_id: string;
  transaction_id: string;
  /** 004-attribution-rules: the per-click cap counts conversions per event type. */
  event_type: ColumnType<string, string | undefined>;
  click_id: string | null;
  publisher_id: string | null;
  tracking_code: string | null;
  click_verdict: string | null;
  reported_click_id: string | null;
  attribution: ConversionAttribution;
  status: "pending" | "approved" | "rejected";
  amount: Numeric;
  currency: string;
  payout: Numeric;
  payout_currency: string;
  revenue_in_rollup: boolean;
  payout_in_rollup: boolean;
  source: "postback" | "sdk" | "batch";
  api_key_id: string | null;
  user_id: string | null;
  device_info: ColumnType<unknown, string | null | undefined, string | null>;
  custom_params: ColumnType<unknown, string | null | undefined, string | null>;
  metadata: ColumnType<unknown, string | null | undefined, string | null>;
  sdk_version: string | null;
  sdk_platform: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConversionStatusHistoryTable {
  id: Generated<string>;
  conversion_id: string;
  tenant_id: string;
  from_status: string | null;
  to_status: string;
  reason: string | null;
  source: string;
  changed_at: Timestamp;
}

/** 004-attribution-rules: the transactions that took a click's conversion slots, per event type. */
export interface ClickConversionSlotsTable {
  click_id: string;
  event_type: string;
  tenant_id: string;
  transaction_ids: string[];
}

/** 008-webhooks: webhook endpoints (kind "webhook") and publisher postback URLs (kind "postback"). */
export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  kind: "webhook" | "postback";
  owner_type: "advertiser" | "publisher";
  advertiser_id: string | null;
  publisher_id: string | null;
  url: string;
  method: ColumnType<"GET" | "POST", "GET" | "POST" | undefined>;
  description: string | null;
  events: ColumnType<string[], string[] | undefined>;
  statuses: ColumnType<string[], string[] | undefined>;
  fire_on: ColumnType<"all" | "first", "all" | "first" | undefined>;
  offer_id: string | null;
  enabled: ColumnType<boolean, boolean | undefined>;
  disabled_reason: ColumnType<string | null, string | null | undefined>;
  failing_since: ColumnType<Date | null, Date | string | null | undefined>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** 008-webhooks: signing secrets; several are active while a rotation overlaps. */
export interface WebhookSecretsTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  /** 012: AES-GCM ciphertext under key `key_id`; plaintext when key_id is null (older rows). */
  secret: string;
  key_id: ColumnType<string | null, string | null | undefined, string | null>;
  expires_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
}

/** 008-webhooks: one row per event × endpoint; `id` is the stable webhook-id. */
export interface WebhookDeliveriesTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  conversion_id: string | null;
  payload: string;
  request_method: string;
  request_url: string;
  status: ColumnType<"pending" | "succeeded" | "failed", "pending" | "succeeded" | "failed" | undefined>;
  attempt_count: ColumnType<number, number | undefined>;
  last_response_status: ColumnType<number | null, number | null | undefined>;
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined>;
  succeeded_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** 008-webhooks: every attempt of a delivery, as sent and as answered. */
export interface WebhookAttemptsTable {
  id: Generated<string>;
  tenant_id: string;
  delivery_id: string;
  attempt: number;
  trigger: "scheduled" | "resend" | "recover";
  request_method: string;
  request_url: string;
  request_headers: ColumnType<Record<string, string>, string, string>;
  request_body: string | null;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  latency_ms: number;
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
}

export interface Database extends TrackerTables, AnalyticsTables, ApplicationTables {
  tenants: TenantsTable;
  advertisers: AdvertisersTable;
  publishers: PublishersTable;
  users: UsersTable;
  offers: OffersTable;
  tracking_links: TrackingLinksTable;
  link_secrets: LinkSecretsTable;
  api_keys: ApiKeysTable;
  clicks: ClicksTable;
  fraud_events: FraudEventsTable;
  stats_daily: StatsDailyTable;
  conversions: ConversionsTable;
  conversion_status_history: ConversionStatusHistoryTable;
  click_conversion_slots: ClickConversionSlotsTable;
  refresh_tokens: RefreshTokensTable;
  invitations: InvitationsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_secrets: WebhookSecretsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
