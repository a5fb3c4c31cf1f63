// The one upsert into stats_daily, the per-day counters of each (offer, publisher) that every click
// and conversion writer keeps in step. It is a SQL fragment, not a statement: each writer embeds it
// in its own single statement, so the hot paths stay one round trip.

import { type RawBuilder, sql } from "kysely";

/** The counters a click or a conversion adds to its day's row, in the column order `rows` yields them. */
export const ROLLUP_COUNTERS = {
  clicks: ["clicks", "valid_clicks", "fraud_clicks"],
  conversions: ["conversions", "revenue", "payout"],
} as const;

export type RollupKind = keyof typeof ROLLUP_COUNTERS;

/** The rollup day of a timestamp: its UTC date. */
export function rollupDay(timestamp: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`(${timestamp} AT TIME ZONE 'UTC')::date`;
}

/**
 * `INSERT INTO stats_daily … ON CONFLICT DO UPDATE` adding to the day's counters. `rows` is a
 * SELECT or VALUES yielding (tenant_id, day, offer_id, publisher_id, ...ROLLUP_COUNTERS[kind]);
 * negative counts subtract (a reversed conversion).
 *
 * @example
 * sql`WITH ins AS (INSERT ... RETURNING ...)
 *   ${addToRollups("clicks", sql`SELECT tenant_id, ${rollupDay(sql`created_at`)}, ... FROM ins`)}`
 */
export function addToRollups(kind: RollupKind, rows: RawBuilder<unknown>): RawBuilder<unknown> {
  const counters = ROLLUP_COUNTERS[kind].map((name) => sql.ref(name));
  const add = counters.map((col) => sql`${col} = s.${col} + excluded.${col}`);
  return sql`
    INSERT INTO stats_daily AS s (tenant_id, day, offer_id, publisher_id, ${sql.join(counters)})
    ${rows}
    ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET ${sql.join(add)}`;
}
