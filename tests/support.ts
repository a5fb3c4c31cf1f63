// Shared by the end-to-end tests: the run's shared stacks (started once by the global setup and
// reached over HTTP), fixtures, link signing and polling for rows written by the queue consumer.

import { type ClickEvent, newClickId, newId, signLinkToken } from "@afftrack/core";
import type { Database, NewConversion } from "@afftrack/db";
import type { Kysely } from "kysely";
import { inject } from "vitest";
import { createFixture, type Fixture, type FixtureOptions, nodeDb } from "../packages/devstack/src/fixtures";
import { type Stack, type StackOptions, startStack } from "../packages/devstack/src/stack";
import type { SharedStackInfo, StackVariant } from "./stack-variants";

/** Request options of a test call: Miniflare's `cf` (country, asn, ...) travels in its header. */
export type TestRequestInit = RequestInit & { cf?: Record<string, unknown> };

/** fetch() against a shared stack; `cf` becomes the MF-CF-Blob header workerd reads `request.cf` from. */
export function stackFetch(url: string | URL, init: TestRequestInit = {}): Promise<Response> {
  const { cf, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (cf) headers.set("MF-CF-Blob", JSON.stringify({ country: "US", ...cf }));
  return fetch(url, { ...rest, headers });
}

export interface SharedTestStack extends SharedStackInfo {
  variant: StackVariant;
  db: Kysely<Database>;
  fixture(opts?: FixtureOptions): Promise<Fixture>;
  /** Same shape as Miniflare's dispatchFetch, over HTTP (redirects are not followed by default). */
  mf: { dispatchFetch(url: string | URL, init?: TestRequestInit): Promise<Response> };
  /** Closes this file's database handle; the stack itself lives for the whole run. */
  close(): Promise<void>;
}

/**
 * The run's shared stack of that variant (see tests/stack-variants.ts).
 *
 * @example
 * const stack = sharedStack();            // in beforeAll
 * afterAll(() => stack.close());
 */
export function sharedStack(variant: StackVariant = "default"): SharedTestStack {
  const info = inject("stacks")[variant];
  if (!info)
    throw new Error(`stack variant "${variant}" was not started (TEST_STACKS=${process.env.TEST_STACKS})`);
  const db = nodeDb(info.databaseUrl);
  return {
    ...info,
    variant,
    db,
    fixture: (o) => createFixture(db, o),
    mf: {
      dispatchFetch: (url, init = {}) => {
        // Like Miniflare's dispatchFetch, a URL on another host (a short-link domain, say) reaches
        // the edge with that URL as the request's own, through Miniflare's MF-Original-URL header.
        const target = new URL(url);
        const edge = new URL(info.edgeUrl);
        const local = target.hostname === "127.0.0.1" || target.hostname === "localhost";
        if (local) return stackFetch(target, { redirect: "manual", ...init });
        const headers = new Headers(init.headers);
        headers.set("MF-Original-URL", target.href);
        return stackFetch(new URL(target.pathname + target.search, edge), {
          redirect: "manual",
          ...init,
          headers,
        });
      },
    },
    close: () => db.destroy(),
  };
}

export interface TestStack extends Stack {
  db: Kysely<Database>;
  fixture(opts?: FixtureOptions): Promise<Fixture>;
}

export async function startTestStack(opts: StackOptions = {}): Promise<TestStack> {
  const stack = await startStack({
    databaseUrl: inject("databaseUrl"),
    redisUrl: inject("redisUrl"),
    migrate: false,
    ...opts,
  });
  const db = nodeDb(stack.databaseUrl);
  return {
    ...stack,
    db,
    fixture: (o) => createFixture(db, o),
    close: async () => {
      await db.destroy();
      await stack.close();
    },
  };
}

export async function signedPath(
  fixture: Pick<Fixture, "tracking_code" | "link_secret">,
  opts: { timestamp?: number; nonce?: string } = {},
) {
  return `/c/${await signLinkToken({ secret: fixture.link_secret, code: fixture.tracking_code, ...opts })}`;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function clickRow(db: Kysely<Database>, clickId: string) {
  return waitFor(
    () => db.selectFrom("clicks").selectAll().where("click_id", "=", clickId).executeTakeFirst(),
    10_000,
    `click ${clickId}`,
  );
}

/** The click_id the edge put into the destination (the demo destination carries {click_id}). */
export function clickIdOf(location: string | null): string {
  const id = location ? new URL(location).searchParams.get("click_id") : null;
  if (!id) throw new Error(`no click_id in ${location}`);
  return id;
}

export const BROWSER_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

let ipCounter = 1;
/** A distinct documentation-range visitor IP per call, so dedupe does not merge test clicks. */
export function nextIp(): string {
  const n = ipCounter++;
  return `198.51.${(n >> 8) & 255}.${n & 255}`;
}

/** A well-formed click event for a fixture's link, as the edge would queue it. */
export function clickEvent(
  f: Pick<Fixture, "tenant_id" | "tracking_code" | "offer_id" | "publisher_id" | "advertiser_id">,
  overrides: Partial<ClickEvent> = {},
): ClickEvent {
  return {
    v: 1,
    click_id: newClickId(),
    created_at: Date.now(),
    tenant_id: f.tenant_id,
    tracking_code: f.tracking_code,
    offer_id: f.offer_id,
    publisher_id: f.publisher_id,
    advertiser_id: f.advertiser_id,
    verdict: "valid",
    country: "US",
    device: "desktop",
    os: "Windows",
    browser: "Chrome",
    ip_hash: null,
    sub1: null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    referer: null,
    source: "redirect",
    ...overrides,
  };
}

/**
 * A conversion row as the ingestion service writes it, for tests that seed conversions directly:
 * attributed to `click` when given (else `no_click`), approved, 10.00 USD paying 1.00 USD.
 */
export function conversionRowOn(
  owner: { tenant_id: string; advertiser_id: string; offer_id: string },
  click: ClickEvent | null,
  overrides: Partial<NewConversion> = {},
): NewConversion {
  const id = overrides.id ?? newId("conv");
  return {
    id,
    tenant_id: owner.tenant_id,
    advertiser_id: click?.advertiser_id ?? owner.advertiser_id,
    offer_id: click?.offer_id ?? owner.offer_id,
    transaction_id: `tx-${id}`,
    click_id: click?.click_id ?? null,
    publisher_id: click?.publisher_id ?? null,
    tracking_code: click?.tracking_code ?? null,
    click_verdict: click?.verdict ?? null,
    reported_click_id: null,
    attribution: click ? "click" : "no_click",
    status: "approved",
    amount: "10.0000",
    currency: "USD",
    payout: "1.0000",
    payout_currency: "USD",
    revenue_in_rollup: true,
    payout_in_rollup: true,
    source: "postback",
    api_key_id: null,
    user_id: null,
    device_info: null,
    custom_params: null,
    metadata: null,
    sdk_version: null,
    sdk_platform: null,
    ...overrides,
  };
}
