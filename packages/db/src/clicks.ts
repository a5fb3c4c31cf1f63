// Click ingestion: one statement per batch inserts the clicks, their fraud events and the daily
// rollups. Rollups are fed only by rows this statement actually inserted (RETURNING), so a
// redelivered message can neither duplicate a click nor count it twice.

import { type ClickEvent, COUNTED_VERDICTS, FRAUD_VERDICTS } from "@afftrack/core";
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema";

export async function insertClickBatch(db: Kysely<Database>, events: readonly ClickEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const unique = new Map<string, ClickEvent>();
  for (const e of events) unique.set(e.click_id, e);
  const payload = JSON.stringify([...unique.values()]);
  const result = await sql<{ inserted: string }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${payload}::jsonb) AS t(
        click_id text, created_at bigint, tenant_id text, tracking_code text, offer_id text,
        publisher_id text, advertiser_id text, verdict text, source text, country text, device text,
        os text, browser text, ip_hash text, sub1 text, sub2 text, sub3 text, sub4 text, sub5 text,
        referer text)
    ), ins AS (
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        created_at, verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3, sub4, sub5, referer)
      SELECT click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        to_timestamp(created_at / 1000.0), verdict, source, country, device, os, browser, ip_hash,
        sub1, sub2, sub3, sub4, sub5, referer
      FROM input
      ON CONFLICT (click_id) DO NOTHING
      RETURNING click_id, tenant_id, tracking_code, offer_id, publisher_id, verdict, created_at, country
    ), fraud AS (
      INSERT INTO fraud_events (tenant_id, kind, click_id, tracking_code, offer_id, publisher_id, detail, created_at)
      SELECT tenant_id, verdict, click_id, tracking_code, offer_id, publisher_id,
        jsonb_build_object('country', country), created_at
      FROM ins WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[])
      ON CONFLICT (click_id, kind) WHERE click_id IS NOT NULL DO NOTHING
      RETURNING 1
    ), stats AS (
      INSERT INTO stats_daily AS s (tenant_id, day, offer_id, publisher_id, clicks, valid_clicks, fraud_clicks)
      SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, offer_id, publisher_id, count(*),
        count(*) FILTER (WHERE verdict = ANY(${sql.val([...COUNTED_VERDICTS])}::text[])),
        count(*) FILTER (WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[]))
      FROM ins GROUP BY 1, 2, 3, 4
      ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET
        clicks = s.clicks + excluded.clicks,
        valid_clicks = s.valid_clicks + excluded.valid_clicks,
        fraud_clicks = s.fraud_clicks + excluded.fraud_clicks
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins) AS inserted,
      (SELECT count(*) FROM fraud) AS fraud, (SELECT count(*) FROM stats) AS stats
  `.execute(db);
  return Number(result.rows[0]?.inserted ?? 0);
}
