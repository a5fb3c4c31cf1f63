// Creates a network with an advertiser, a publisher, an offer, a tracking link, a link-signing
// secret and an API key, directly in Postgres. Used by `pnpm demo` (fixed ids, idempotent) and by
// tests (random ids). API keys are stored hashed, so a fresh key is issued on every call.

import { newId, newShortCode, newTrackingCode, randomBase62, sha256Hex } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";

export interface FixtureOptions {
  /** Fixed ids derived from this key make the call idempotent (the demo); omit for random ids. */
  key?: string;
  destinationUrl?: string;
  fallbackUrl?: string | null;
  allowedCountries?: string[];
  blockedCountries?: string[];
  linkTtlSeconds?: number;
  status?: "active" | "paused" | "archived";
  payoutType?: "cpa" | "revshare";
  payoutAmount?: number;
  /** Extra secrets still valid while being retired (rotation). */
  retiringSecrets?: string[];
}

export interface Fixture {
  tenant_id: string;
  advertiser_id: string;
  publisher_id: string;
  offer_id: string;
  user_offer_id: string;
  tracking_code: string;
  short_code: string;
  link_secret: string;
  api_key: string;
  api_key_prefix: string;
  destination_url: string;
}

export const DEFAULT_DESTINATION = "https://example.com/landing?click_id={click_id}&country={country}";

export function nodeDb(connectionString: string): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString, max: 4 }) }),
  });
}

export async function issueApiKey(
  db: Kysely<Database>,
  owner: { tenant_id: string; advertiser_id: string },
): Promise<{ id: string; key: string; prefix: string }> {
  const key = `ak_${randomBase62(40)}`;
  const prefix = key.slice(0, 10);
  const id = newId("key");
  await db
    .insertInto("api_keys")
    .values({
      id,
      tenant_id: owner.tenant_id,
      advertiser_id: owner.advertiser_id,
      prefix,
      key_hash: await sha256Hex(key),
    })
    .execute();
  return { id, key, prefix };
}

export async function createFixture(db: Kysely<Database>, opts: FixtureOptions = {}): Promise<Fixture> {
  const fixed = (prefix: string, make: () => string) => (opts.key ? `${prefix}_${opts.key}` : make());
  const tenant_id = fixed("net", () => newId("net"));
  const advertiser_id = fixed("adv", () => newId("adv"));
  const publisher_id = fixed("pub", () => newId("pub"));
  const offer_id = fixed("off", () => newId("off"));
  const user_offer_id = fixed("uo", () => newId("uo"));
  const destination_url = opts.destinationUrl ?? DEFAULT_DESTINATION;

  return db.transaction().execute(async (tx) => {
    await tx
      .insertInto("tenants")
      .values({ id: tenant_id, name: opts.key ? `Demo network (${opts.key})` : "Test network" })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    await tx
      .insertInto("advertisers")
      .values({ id: advertiser_id, tenant_id, name: "Demo Advertiser" })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    await tx
      .insertInto("publishers")
      .values({ id: publisher_id, tenant_id, name: "Demo Publisher", influencer_id: null })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const offer = {
      destination_url,
      fallback_url: opts.fallbackUrl ?? null,
      status: opts.status ?? "active",
      payout_type: opts.payoutType ?? "cpa",
      payout_amount: opts.payoutAmount ?? 2.5,
      allowed_countries: opts.allowedCountries ?? [],
      blocked_countries: opts.blockedCountries ?? [],
      link_ttl_seconds: opts.linkTtlSeconds ?? 300,
      // The edge accepts links for the offer's ceiling: fixtures keep it at their TTL.
      max_link_ttl_seconds: opts.linkTtlSeconds ?? 300,
    } as const;
    await tx
      .insertInto("offers")
      .values({ id: offer_id, tenant_id, advertiser_id, name: "Demo Offer", ...offer })
      .onConflict((oc) => oc.column("id").doUpdateSet({ ...offer, updated_at: new Date() }))
      .execute();
    await tx
      .insertInto("tracking_links")
      .values({
        id: user_offer_id,
        tenant_id,
        offer_id,
        publisher_id,
        tracking_code: newTrackingCode(),
        short_code: newShortCode(),
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const link = await tx
      .selectFrom("tracking_links")
      .select(["tracking_code", "short_code"])
      .where("id", "=", user_offer_id)
      .executeTakeFirstOrThrow();

    let secret = await tx
      .selectFrom("link_secrets")
      .select("secret")
      .where("advertiser_id", "=", advertiser_id)
      .where("expires_at", "is", null)
      .executeTakeFirst();
    if (!secret) {
      secret = { secret: randomBase62(40) };
      await tx
        .insertInto("link_secrets")
        .values({ id: newId("sec"), tenant_id, advertiser_id, secret: secret.secret })
        .execute();
    }
    for (const old of opts.retiringSecrets ?? []) {
      await tx
        .insertInto("link_secrets")
        .values({
          id: newId("sec"),
          tenant_id,
          advertiser_id,
          secret: old,
          created_at: new Date(Date.now() - 60_000),
          expires_at: new Date(Date.now() + 3_600_000),
        })
        .execute();
    }
    // Fresh credentials on every call; a re-run of the demo revokes the previous demo key.
    if (opts.key) {
      await tx
        .updateTable("api_keys")
        .set({ status: "revoked" })
        .where("advertiser_id", "=", advertiser_id)
        .execute();
    }
    const apiKey = await issueApiKey(tx, { tenant_id, advertiser_id });
    return {
      tenant_id,
      advertiser_id,
      publisher_id,
      offer_id,
      user_offer_id,
      tracking_code: link.tracking_code,
      short_code: link.short_code ?? "",
      link_secret: secret.secret,
      api_key: apiKey.key,
      api_key_prefix: apiKey.prefix,
      destination_url,
    };
  });
}
