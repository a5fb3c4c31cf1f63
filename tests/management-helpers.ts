// Shared by the management-API tests: JSON calls with a bearer token, and a whole network built
// through the API itself (admin, advertiser + its user, publisher + its user, an offer).

import { randomBytes } from "node:crypto";
import { type LinkRecord, linkKey, parseLinkToken } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { BROWSER_UA, nextIp, type SharedTestStack } from "./support";

type StackUrls = { apiUrl: string };

export interface ApiResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies differ per endpoint; tests assert their shape
  body: any;
  text: string;
  /** The error body's `request_id` (kept out of `body`, which tests compare whole). */
  requestId: string | undefined;
}

export async function call(
  stack: StackUrls,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${stack.apiUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  let requestId: string | undefined;
  if (parsed && typeof parsed === "object" && "request_id" in parsed) {
    const { request_id, ...rest } = parsed as { request_id: string };
    requestId = request_id;
    parsed = rest;
  }
  return { status: res.status, body: parsed, text, requestId };
}

export function uniqueEmail(tag: string): string {
  return `${tag}-${randomBytes(6).toString("hex")}@example.test`;
}

export const PASSWORD = "s3cret-passw0rd";

export interface Network {
  tenant_id: string;
  adminToken: string;
  adminRefresh: string;
  advertiser_id: string;
  advertiserToken: string;
  publisher_id: string;
  publisherToken: string;
  offer_id: string;
  adminEmail: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the data of whichever endpoint was called
async function ok(res: Promise<ApiResult>, status: number, what: string): Promise<any> {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text}`);
  return r.body.data;
}

/** Registers a network and creates one advertiser, one publisher, their users and one offer. */
export async function buildNetwork(stack: StackUrls, name = "Net"): Promise<Network> {
  const adminEmail = uniqueEmail("admin");
  const reg = await ok(
    call(stack, "POST", "/api/auth/register", {
      body: { network_name: name, email: adminEmail, password: PASSWORD, name: "Ada Admin" },
    }),
    201,
    "register",
  );
  const adminToken = reg.access_token as string;
  const adv = await ok(
    call(stack, "POST", "/api/advertisers", { token: adminToken, body: { name: `${name} Advertiser` } }),
    201,
    "create advertiser",
  );
  const pub = await ok(
    call(stack, "POST", "/api/publishers", { token: adminToken, body: { name: `${name} Publisher` } }),
    201,
    "create publisher",
  );
  const acceptAs = async (role: "advertiser" | "publisher", id: string) => {
    const invite = await ok(
      call(stack, "POST", "/api/invitations", {
        token: adminToken,
        body: { email: uniqueEmail(role), role, [`${role}_id`]: id },
      }),
      201,
      `invite ${role}`,
    );
    const session = await ok(
      call(stack, "POST", "/api/auth/accept-invite", {
        body: { invite_token: invite.invite_token, password: PASSWORD },
      }),
      201,
      `accept ${role}`,
    );
    return session.access_token as string;
  };
  const advertiserToken = await acceptAs("advertiser", adv.id);
  const publisherToken = await acceptAs("publisher", pub.id);
  const offer = await ok(
    call(stack, "POST", "/api/offers", {
      token: advertiserToken,
      body: {
        name: `${name} Offer`,
        destination_url: "https://example.com/landing?click_id={click_id}&country={country}",
        payout_type: "cpa",
        payout_amount: 2.5,
        currency: "USD",
      },
    }),
    201,
    "create offer",
  );
  return {
    tenant_id: reg.user.tenant_id,
    adminToken,
    adminRefresh: reg.refresh_token,
    advertiser_id: adv.id,
    advertiserToken,
    publisher_id: pub.id,
    publisherToken,
    offer_id: offer.id,
    adminEmail,
  };
}

/** The path of a link the API handed out, to dispatch to the test edge. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** A browser's click on a link the API handed out, at the test edge (a fresh IP each time). */
export function visitLink(stack: Pick<SharedTestStack, "mf" | "edgeUrl">, url: string): Promise<Response> {
  return stack.mf.dispatchFetch(new URL(pathOf(url), stack.edgeUrl), {
    headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
  });
}

/** The parts of a signed link the API handed out (code, timestamp, nonce, signature). */
export function signedTokenOf(signedLink: string) {
  const parsed = parseLinkToken(new URL(signedLink).pathname.replace(/^\/c\//, ""));
  if (parsed.kind !== "signed") throw new Error(`not a signed link: ${signedLink}`);
  return parsed;
}

/** The link record the API wrote to Redis for a tracking code, read through the Upstash gateway. */
export function linkRecordOf(
  stack: Pick<SharedTestStack, "redisRestUrl" | "redisRestToken">,
  code: string,
): Promise<LinkRecord | null> {
  return new Redis({ url: stack.redisRestUrl, token: stack.redisRestToken }).get<LinkRecord>(linkKey(code));
}
