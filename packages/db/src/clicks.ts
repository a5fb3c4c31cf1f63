// Clicks: one statement per queue batch inserts the clicks, their fraud events and the daily
// rollups; one statement per SDK click does the same for a single click. Rollups are fed only by
// rows the statement actually inserted (RETURNING), so a redelivered click is never counted twice.

import { type ClickEvent, COUNTED_VERDICTS, FRAUD_VERDICTS } from "@afftrack/core";
import { type Insertable, type Kysely, sql } from "kysely";
import { jsonb } from "./conversions";
import { addToRollups, rollupDay } from "./rollups";
import type { ClicksTable, Database } from "./schema";

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
        referer text, unverified boolean)
    ), ins AS (
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        created_at, verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3, sub4, sub5, referer,
        unverified)
      SELECT click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        to_timestamp(created_at / 1000.0), verdict, source, country, device, os, browser, ip_hash,
        sub1, sub2, sub3, sub4, sub5, referer, coalesce(unverified, false)
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
      ${addToRollups(
        "clicks",
        sql`SELECT tenant_id, ${rollupDay(sql`created_at`)}, offer_id, publisher_id, count(*),
          count(*) FILTER (WHERE verdict = ANY(${sql.val([...COUNTED_VERDICTS])}::text[])),
          count(*) FILTER (WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[]))
        FROM ins GROUP BY 1, 2, 3, 4`,
      )}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins) AS inserted,
      (SELECT count(*) FROM fraud) AS fraud, (SELECT count(*) FROM stats) AS stats
  `.execute(db);
  return Number(result.rows[0]?.inserted ?? 0);
}

/** An SDK click as the ingestion service builds it (`created_at` in ms; source is always "sdk"). */
export type NewSdkClick = Required<
  Omit<
    Insertable<ClicksTable>,
    "created_at" | "source" | "referer" | "inserted_at" | "sdk_meta" | "unverified"
  >
> & { created_at: number; sdk_meta: unknown };

/** An SDK click and its rollup, in one statement; counted like a redirect click of the same verdict. */
export async function insertSdkClick(
  db: Kysely<Database>,
  c: NewSdkClick,
  counted: { valid: boolean; fraud: boolean },
): Promise<void> {
  await sql`
    WITH ins AS (
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        created_at, verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3, sub4, sub5,
        referer, sdk_version, sdk_platform, sdk_meta)
      VALUES (${c.click_id}, ${c.tenant_id}, ${c.tracking_code}, ${c.offer_id}, ${c.publisher_id},
        ${c.advertiser_id}, to_timestamp(${c.created_at}::bigint / 1000.0), ${c.verdict}, 'sdk', ${c.country},
        ${c.device}, ${c.os}, ${c.browser}, ${c.ip_hash}, ${c.sub1}, ${c.sub2}, ${c.sub3}, ${c.sub4},
        ${c.sub5}, NULL, ${c.sdk_version}, ${c.sdk_platform}, ${jsonb(c.sdk_meta)}::jsonb)
      ON CONFLICT (click_id) DO NOTHING
      RETURNING tenant_id, offer_id, publisher_id, created_at
    )
    ${addToRollups(
      "clicks",
      sql`SELECT tenant_id, ${rollupDay(sql`created_at`)}, offer_id, publisher_id, 1,
        ${counted.valid ? 1 : 0}, ${counted.fraud ? 1 : 0}
      FROM ins`,
    )}
  `.execute(db);
}
