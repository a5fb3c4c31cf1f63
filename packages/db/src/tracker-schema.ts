// Kysely table types of the influencer tracker (009-tracker), merged into `Database`.

import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface TrackerCustomersTable {
  id: string;
  tenant_id: string;
  customer_code: string;
  name: string;
  created_at: Timestamp;
}

export interface TrackerAccessKeysTable {
  id: string;
  tenant_id: string;
  customer_id: string;
  prefix: string;
  key_hash: string;
  status: ColumnType<"active" | "revoked", "active" | "revoked" | undefined>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined>;
  created_at: Timestamp;
}

export type TrackerDisplayStyle = "bar" | "counter" | "minimal";

export interface TrackerProductsTable {
  id: string;
  tenant_id: string;
  customer_id: string;
  code: string;
  name: string;
  goal: number | null;
  display_style: ColumnType<TrackerDisplayStyle, TrackerDisplayStyle | undefined>;
  anti_cheat: ColumnType<boolean, boolean | undefined>;
  event_types: ColumnType<string[], string[] | undefined>;
  status: ColumnType<"active" | "paused", "active" | "paused" | undefined>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TrackerEventsTable {
  id: string;
  tenant_id: string;
  customer_id: string;
  product_id: string;
  publisher_id: string;
  influencer_id: string;
  event_type: string;
  event_name: string | null;
  campaign: string;
  medium: string | null;
  source: string | null;
  country: string | null;
  device: string | null;
  viewer_hash: string | null;
  day: ColumnType<string, string, string>;
  counted: boolean;
  filtered_reason: string | null;
  created_at: Timestamp;
}

export interface TrackerRollupsTable {
  tenant_id: string;
  product_id: string;
  publisher_id: string;
  campaign: string;
  event_type: string;
  bucket: Timestamp;
  counted: number;
  filtered: number;
}

export interface TrackerTotalsTable {
  tenant_id: string;
  product_id: string;
  publisher_id: string;
  /** "" is every campaign. */
  campaign: string;
  counted: ColumnType<string, number | string, number | string>;
}

export interface TrackerTables {
  tracker_customers: TrackerCustomersTable;
  tracker_access_keys: TrackerAccessKeysTable;
  tracker_products: TrackerProductsTable;
  tracker_events: TrackerEventsTable;
  tracker_rollups: TrackerRollupsTable;
  tracker_totals: TrackerTotalsTable;
}
