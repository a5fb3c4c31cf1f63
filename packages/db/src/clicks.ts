// Clicks: one statement per queue batch inserts the clicks, their fraud events and the
// rollups; one statement per SDK click does the same for a single click. Rollups are fed only by
// rows the statement actually inserted (RETURNING), so a redelivered click is never counted twice
// (clicks is partitioned by month: its key is (click_id, created_at), the edge's fixed timestamp).

import { type ClickEvent, FRAUD_VERDICTS } from "@afftrack/core";
import { type Insertable, type Kysely, sql } from "kysely";
import { jsonb } from "./conversions";
import { lateConversionMoves, rollupCtes } from "./rollups";
import type { ClicksTable, Database } from "./schema";

/**
 * Unique clicks: a click is unique when it is the first of its visitor (ip_hash) on its link
 * (tracking_code) in its UTC day. `uniq` claims each (day, link, visitor) in click_uniques (only
 * newly inserted clicks reach it, so a redelivery claims nothing); `firsts` picks the earliest click
 * of each claimed key within the statement. A click without ip_hash (an SDK click may have none)
 * cannot be matched to a visitor and counts as unique.
 */
const uniqueClickCtes = sql`uniq AS (
      INSERT INTO click_uniques (day, tracking_code, ip_hash)
      SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, tracking_code, ip_hash FROM ins
      WHERE ip_hash IS NOT NULL
      ON CONFLICT DO NOTHING
      RETURNING day, tracking_code, ip_hash
    ), firsts AS (
      SELECT DISTINCT ON (u.day, u.tracking_code, u.ip_hash) i.click_id
      FROM uniq u JOIN ins i ON i.tracking_code = u.tracking_code AND i.ip_hash = u.ip_hash
        AND (i.created_at AT TIME ZONE 'UTC')::date = u.day
      ORDER BY u.day, u.tracking_code, u.ip_hash, i.created_at, i.click_id
    )`;

/** The rollup rows of the clicks a statement inserted (`ins`), unique flag from `firsts`. */
const clickRollupRows = sql`
      SELECT tenant_id, created_at, offer_id, publisher_id, advertiser_id, country, device, os, browser, sub1,
        verdict, '', '', 1,
        CASE WHEN ip_hash IS NULL OR click_id IN (SELECT click_id FROM firsts) THEN 1 ELSE 0 END,
        0, 0, 0, 0, 0
      FROM ins`;

/** A writer's rows: the clicks, and the conversions recorded before their click moved onto its dimensions. */
const newClickRollupRows = sql`${clickRollupRows} UNION ALL ${lateConversionMoves(sql`ins`)}`;

export async function insertClickBatch(db: Kysely<Database>, events: readonly ClickEvent[]): Promise<number> {
  return (await insertClickBatchReturningIds(db, events)).length;
}

/**
 * Writes a batch (clicks, fraud events, rollups) in one statement and returns the ids of the
 * clicks it inserted: a redelivered click already written is not among them, so what is announced
 * after commit (the live feed) is announced once.
 */
export async function insertClickBatchReturningIds(
  db: Kysely<Database>,
  events: readonly ClickEvent[],
): Promise<string[]> {
  if (events.length === 0) return [];
  const unique = new Map<string, ClickEvent>();
  for (const e of events) unique.set(e.click_id, e);
  const payload = JSON.stringify([...unique.values()]);
  const result = await sql<{ ids: string[] | null }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${payload}::jsonb) AS t(
        click_id text, created_at bigint, tenant_id text, tracking_code text, offer_id text,
        publisher_id text, advertiser_id text, verdict text, source text, country text, device text,
        os text, browser text, ip_hash text, sub1 text, sub2 text, sub3 text, sub4 text, sub5 text,
        referer text, unverified boolean, flags text[], hold boolean)
    ), ins AS (
      INSERT INTO clicks (click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        created_at, verdict, source, country, device, os, browser, ip_hash, sub1, sub2, sub3, sub4, sub5, referer,
        unverified, flags, held)
      SELECT click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id,
        to_timestamp(created_at / 1000.0), verdict, source, country, device, os, browser, ip_hash,
        sub1, sub2, sub3, sub4, sub5, referer, coalesce(unverified, false), coalesce(flags, '{}'),
        coalesce(hold, false)
      FROM input
      ON CONFLICT (click_id, created_at) DO NOTHING
      RETURNING click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, verdict, created_at,
        country, device, os, browser, sub1, ip_hash, flags, held
    ), fraud AS (
      -- Refused clicks (fraud verdicts) and every fraud rule that fired (flags), whatever its action.
      INSERT INTO fraud_events (tenant_id, kind, click_id, tracking_code, offer_id, publisher_id, detail, created_at)
      SELECT tenant_id, kind, click_id, tracking_code, offer_id, publisher_id,
        jsonb_build_object('country', country, 'verdict', verdict, 'held', held), created_at
      FROM (
        SELECT *, verdict AS kind FROM ins WHERE verdict = ANY(${sql.val([...FRAUD_VERDICTS])}::text[])
        UNION ALL SELECT *, unnest(flags) AS kind FROM ins
      ) f
      ON CONFLICT (click_id, kind) WHERE click_id IS NOT NULL DO NOTHING
      RETURNING 1
    ), ${uniqueClickCtes},
    ${rollupCtes(newClickRollupRows)}
    SELECT (SELECT array_agg(click_id) FROM ins) AS ids, (SELECT count(*) FROM fraud) AS fraud,
      (SELECT count(*) FROM rollup_q) AS rollup_q
  `.execute(db);
  return result.rows[0]?.ids ?? [];
}

/** An SDK click as the ingestion service builds it (`created_at` in ms; source is always "sdk"). */
export type NewSdkClick = Required<
  Omit<
    Insertable<ClicksTable>,
    "created_at" | "source" | "referer" | "inserted_at" | "sdk_meta" | "unverified" | "flags" | "held"
  >
> & { created_at: number; sdk_meta: unknown };

/** An SDK click and its rollup, in one statement; counted like a redirect click of the same verdict. */
export async function insertSdkClick(
  db: Kysely<Database>,
  c: NewSdkClick,
  // Valid and fraud are derived from the verdict now (rollups keep the verdict); kept for callers.
  _counted?: { valid: boolean; fraud: boolean },
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
      ON CONFLICT (click_id, created_at) DO NOTHING
      RETURNING click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, verdict, created_at,
        country, device, os, browser, sub1, ip_hash
    ), ${uniqueClickCtes},
    ${rollupCtes(newClickRollupRows)}
    SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM rollup_q) AS rollup_q
  `.execute(db);
}

/**
 * Adds clicks already in the table (created in [from, to), optionally one tenant's) to the rollups
 * and unique-click keys exactly as the consumer's statement would have: a backfill for rows loaded
 * around the consumer (the benchmark's COPY-style load, an import). Run it once per range.
 */
export async function backfillClickRollups(
  db: Kysely<Database>,
  range: { from: Date; to: Date; tenantId?: string },
): Promise<number> {
  const result = await sql<{ n: string }>`
    WITH ins AS (
      SELECT click_id, tenant_id, tracking_code, offer_id, publisher_id, advertiser_id, verdict, created_at,
        country, device, os, browser, sub1, ip_hash
      FROM clicks WHERE created_at >= ${range.from.toISOString()}::timestamptz
        AND created_at < ${range.to.toISOString()}::timestamptz
        ${range.tenantId ? sql`AND tenant_id = ${range.tenantId}` : sql``}
    ), ${uniqueClickCtes},
    ${rollupCtes(clickRollupRows)}
    SELECT (SELECT count(*) FROM ins) AS n
  `.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}
