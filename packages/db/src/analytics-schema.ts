// Tables of 007-analytics, 011-stats-daily and 013-stats-day: the rollups (15-minute UTC buckets, the daily tier in
// the network's zone), the live counters and the unique-click keys.

import type { ColumnType } from "kysely";

type Numeric = ColumnType<string, number | string, number | string>;

export interface StatsRollupTable {
  tenant_id: string;
  bucket: ColumnType<Date, Date | string, Date | string>;
  offer_id: string;
  publisher_id: string;
  advertiser_id: string;
  country: string;
  verdict: string;
  currency: string;
  payout_currency: string;
  clicks: number;
  unique_clicks: number;
  pending_conversions: number;
  approved_conversions: number;
  rejected_conversions: number;
  revenue: Numeric;
  payout: Numeric;
}

export interface StatsQuarterTable extends StatsRollupTable {
  device: string;
  os: string;
  browser: string;
  sub1: string;
}

export interface StatsDayMeasures {
  tenant_id: string;
  day: ColumnType<string, string, string>;
  currency: string;
  payout_currency: string;
  clicks: number;
  unique_clicks: number;
  valid_clicks: number;
  fraud_clicks: number;
  bot_clicks: number;
  bot_unique_clicks: number;
  pending_conversions: number;
  approved_conversions: number;
  rejected_conversions: number;
  revenue: Numeric;
  payout: Numeric;
}

export interface ClickUniquesTable {
  day: ColumnType<string, string, string>;
  tracking_code: string;
  ip_hash: string;
}

export interface StatsLiveTable {
  tenant_id: string;
  minute: ColumnType<Date, Date | string, Date | string>;
  advertiser_id: string;
  publisher_id: string;
  clicks: number;
  valid_clicks: number;
  fraud_clicks: number;
  conversions: number;
}

export interface AnalyticsTables {
  stats_live: StatsLiveTable;
  stats_q: StatsQuarterTable;
  stats_day: StatsDayMeasures & {
    dim: number;
    offer_id: string;
    publisher_id: string;
    country: string;
    advertiser_id: string;
  };
  click_uniques: ClickUniquesTable;
}
