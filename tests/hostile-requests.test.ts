// Hostile requests against every route of the app's real route table (issue 13 #8): hostile path
// parameters, query values and bodies, with a token of each role. Never a 5xx, every refusal in the
// seed's envelope with a code, and not a row written. Plus a client that closes its connection
// before sending the body it declared: the worker answers the next request normally.

import { connect } from "node:net";
import { randomBase62, signRequestV2 } from "@afftrack/core";
import { createApiKey, type IssuedApiKey } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../apps/api/src/app";
import { buildNetwork, type Network } from "./management-helpers";
import { type SharedTestStack, sharedStack } from "./support";

let stack: SharedTestStack;
let net: Network;
let tokens: Record<"admin" | "advertiser" | "publisher" | "none", string | undefined>;

beforeAll(async () => {
  stack = sharedStack();
  net = await buildNetwork(stack, "Hostile");
  tokens = {
    admin: net.adminToken,
    advertiser: net.advertiserToken,
    publisher: net.publisherToken,
    none: undefined,
  };
});
afterAll(() => stack.close());

const NOT_API = new Set(["/openapi.json", "/docs", "/healthz"]);

function routeTable(): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of app.routes) {
    if (r.method === "ALL" || NOT_API.has(r.path)) continue;
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}

const b64url = (s: string) => Buffer.from(s).toString("base64url");

/** Path parameter values, already percent-encoded as a client would put them in the URL. */
const HOSTILE_PARAMS = [
  "%00",
  "a%00b",
  "a".repeat(10_000),
  "..%2F..%2Fapi%2Fadvertisers",
  "%2e%2e",
  "%C3%A9%F0%9F%98%80",
  "%ZZ",
  "%",
  "%C3%28",
  "%EF%BF%BF",
  "null",
  "-1",
  "1e308",
];

/** Query strings, as sent. */
const HOSTILE_QUERIES = [
  "limit=%00",
  "limit=1&limit=2",
  "limit=-1",
  "limit=1e308",
  `limit=${"9".repeat(5000)}`,
  "cursor=%00",
  "cursor=a&cursor=b",
  "cursor=!!!",
  `cursor=${"A".repeat(10_000)}`,
  `cursor=${b64url(JSON.stringify(["0000-01-01 00:00:00+00", "x"]))}`,
  `cursor=${b64url(JSON.stringify(["2024-02-30 00:00:00+00", "x"]))}`,
  `cursor=${b64url(JSON.stringify(["2024-01-01 00:00:00+99", "x"]))}`,
  `cursor=${b64url(JSON.stringify(["2024-01-01 24:00:00+00", "x"]))}`,
  `cursor=${b64url(JSON.stringify(["2024-01-01 00:00:00+00", "a\u0000b"]))}`,
  `cursor=${b64url(JSON.stringify(["2024-01-01 00:00:00+00", 1]))}`,
  `cursor=${b64url("[")}`,
  ...[
    "search",
    "status",
    "offer_id",
    "advertiser_id",
    "publisher_id",
    "from",
    "to",
    "country",
    "role",
    "event_type",
  ].flatMap((k) => [
    `${k}=%00`,
    `${k}=a%00b`,
    `${k}=${"x".repeat(10_000)}`,
    `${k}=1&${k}=2`,
    `${k}=%C3%28`,
    `${k}=0000-01-01`,
  ]),
];

/** A valid-looking body per route, so a NUL or a wrong type in one field is what gets refused. */
const BASE_BODY: Record<string, Record<string, unknown>> = {
  "POST /api/auth/register": {
    network_name: "N",
    email: "hostile@example.test",
    password: "s3cret-passw0rd",
  },
  "POST /api/auth/login": { email: "hostile@example.test", password: "s3cret-passw0rd" },
  "POST /api/auth/refresh": { refresh_token: "rt_x" },
  "POST /api/auth/logout": { refresh_token: "rt_x" },
  "POST /api/auth/accept-invite": { invite_token: "x", password: "s3cret-passw0rd" },
  "POST /api/advertisers": { name: "A" },
  "PATCH /api/advertisers/:id": { name: "A" },
  "POST /api/publishers": { name: "P" },
  "PATCH /api/publishers/:id": { name: "P" },
  "POST /api/offers": { name: "O", destination_url: "https://shop.example/p", advertiser_id: "x" },
  "PATCH /api/offers/:id": { name: "O" },
  "POST /api/invitations": { email: "i@example.test", role: "publisher", publisher_id: "x" },
  "POST /api/links/sign": { tracking_code: "abc", ttl_minutes: 10 },
  "POST /api/api-keys": { name: "k" },
};

const WRONG_VALUES: unknown[] = [
  "a\u0000b",
  "\u0000",
  "x".repeat(100_000 / 2),
  1e308,
  -1e308,
  -0,
  [],
  ["a", "b"],
  {},
  { $ne: null },
  null,
  true,
];

function hostileBodies(route: string): unknown[] {
  const base = BASE_BODY[route] ?? {};
  const keys = new Set([...Object.keys(base), "name", "email", "id", "status"]);
  const bodies: unknown[] = [
    [],
    [base],
    "x",
    1e308,
    null,
    { a: JSON.parse(`${'{"a":'.repeat(500)}1${"}".repeat(500)}`) },
    { ...base, extra: "\u0000" },
  ];
  for (const k of keys) for (const value of WRONG_VALUES) bodies.push({ ...base, [k]: value });
  return bodies;
}

async function rowCounts(): Promise<Record<string, number>> {
  const tables = [
    "advertisers",
    "publishers",
    "users",
    "offers",
    "invitations",
    "tracking_links",
    "api_keys",
    "link_secrets",
    "refresh_tokens",
    "clicks",
    "conversions",
    "tracker_customers",
    "tracker_access_keys",
    "tracker_products",
    "tracker_events",
    "tracker_rollups",
    "tracker_totals",
  ] as const;
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const row = await stack.db
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("tenant_id", "=", net.tenant_id)
      .executeTakeFirstOrThrow();
    counts[t] = Number(row.n);
  }
  const hostileUsers = await stack.db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("email", "=", "hostile@example.test")
    .executeTakeFirstOrThrow();
  counts.hostile_users = Number(hostileUsers.n);
  return counts;
}

interface Failure {
  request: string;
  status: number;
  body: string;
}

async function send(
  method: string,
  url: string,
  token: string | undefined,
  body?: unknown,
): Promise<Failure | null> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${stack.apiUrl}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const request = `${method} ${url.slice(0, 200)} ${body === undefined ? "" : JSON.stringify(body).slice(0, 120)}`;
  if (res.status >= 500) return { request, status: res.status, body: text.slice(0, 300) };
  if (res.status >= 400) {
    let parsed: { success?: unknown; code?: unknown; error?: unknown } | null = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (parsed?.success !== false || typeof parsed.code !== "string" || typeof parsed.error !== "string") {
      return { request, status: res.status, body: text.slice(0, 300) };
    }
  }
  return null;
}

/** Runs requests a few at a time (the stack is shared with other test files). */
async function runAll(jobs: Array<() => Promise<Failure | null>>): Promise<Failure[]> {
  const failures: Failure[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        const f = job ? await job() : null;
        if (f) failures.push(f);
      }
    }),
  );
  return failures;
}

describe("hostile requests against the management and ingestion routes", () => {
  it("covers the route table", () => {
    expect(routeTable().length).toBeGreaterThan(20);
  });

  it("hostile path parameters: never a 5xx, always the envelope, nothing written", async () => {
    const before = await rowCounts();
    const jobs: Array<() => Promise<Failure | null>> = [];
    for (const { method, path } of routeTable()) {
      if (!path.includes("/:")) continue;
      for (const value of HOSTILE_PARAMS) {
        const url = path.replace(/:\w+/g, value);
        const body =
          BASE_BODY[`${method} ${path}`] ?? (method === "GET" || method === "DELETE" ? undefined : {});
        for (const token of Object.values(tokens)) jobs.push(() => send(method, url, token, body));
      }
    }
    expect(await runAll(jobs)).toEqual([]);
    expect(await rowCounts()).toEqual(before);
  });

  it("hostile query values: never a 5xx, always the envelope, nothing written", async () => {
    const before = await rowCounts();
    const jobs: Array<() => Promise<Failure | null>> = [];
    for (const { method, path } of routeTable()) {
      if (method !== "GET") continue;
      const filled = path.replace(/:\w+/g, (p) => (p === ":id" ? net.offer_id : "x"));
      for (const q of HOSTILE_QUERIES) {
        for (const token of Object.values(tokens)) jobs.push(() => send(method, `${filled}?${q}`, token));
      }
    }
    expect(await runAll(jobs)).toEqual([]);
    expect(await rowCounts()).toEqual(before);
  });

  it("hostile bodies: never a 5xx, always the envelope, nothing written", async () => {
    const before = await rowCounts();
    const jobs: Array<() => Promise<Failure | null>> = [];
    const ids: Record<string, string> = {
      "/api/advertisers/:id": net.advertiser_id,
      "/api/publishers/:id": net.publisher_id,
      "/api/offers/:id": net.offer_id,
    };
    for (const { method, path } of routeTable()) {
      if (method === "GET") continue;
      const filled = path.replace(/\/[^/]+\/:\w+/, (m) => {
        const prefix = Object.keys(ids).find((k) => path.startsWith(k));
        // Real ids only where a body is validated (PATCH): a route that ignores its body (DELETE,
        // join) is aimed at a made-up id, so a valid request there cannot change the network.
        const real = prefix && BASE_BODY[`${method} ${path}`] !== undefined;
        return real ? m.replace(/:\w+/, ids[prefix] ?? "x") : m.replace(/:\w+/, "x");
      });
      for (const body of hostileBodies(`${method} ${path}`)) {
        for (const token of Object.values(tokens)) jobs.push(() => send(method, filled, token, body));
      }
    }
    expect(await runAll(jobs)).toEqual([]);
    expect(await rowCounts()).toEqual(before);
  });
});

describe("hostile bodies past the ingestion API's key and signature checks", () => {
  const INGESTION = /^\/api\/(sdk\/|postback$|conversions\/status$)/;

  it("reach validation (a real key, v2-signed) and are refused there: never a 5xx, nothing written", async () => {
    const routes = routeTable().filter((r) => r.method === "POST" && INGESTION.test(r.path));
    expect(routes.map((r) => r.path)).toEqual(
      expect.arrayContaining(["/api/postback", "/api/sdk/click", "/api/sdk/conversion"]),
    );
    const before = await rowCounts();
    // A fresh key every 50 requests keeps each under the per-key rate limit (60 a minute).
    let key: IssuedApiKey | undefined;
    let used = 0;
    const keyFor = async () => {
      if (!key || used++ >= 50) {
        key = await createApiKey(stack.db, { tenant_id: net.tenant_id, advertiser_id: net.advertiser_id });
        used = 1;
      }
      return key;
    };
    const jobs: Array<() => Promise<Failure | null>> = [];
    for (const { path } of routes) {
      for (const body of hostileBodies(`POST ${path}`)) {
        jobs.push(async () => {
          const k = await keyFor();
          const raw = JSON.stringify(body);
          const headers = await signRequestV2({
            secret: k.signing_secret,
            method: "POST",
            path,
            timestamp: Date.now(),
            nonce: randomBase62(32),
            body: raw,
          });
          const res = await fetch(`${stack.apiUrl}${path}`, {
            method: "POST",
            headers: { ...headers, "x-api-key": k.key, "content-type": "application/json" },
            body: raw,
          });
          const text = await res.text();
          const request = `POST ${path} ${raw.slice(0, 120)}`;
          // Past the key and the signature, a hostile body is a 400 in the envelope (or 429).
          if (res.status !== 400 && res.status !== 429)
            return { request, status: res.status, body: text.slice(0, 300) };
          const parsed = JSON.parse(text) as { success?: unknown; code?: unknown };
          if (parsed.success !== false || typeof parsed.code !== "string")
            return { request, status: res.status, body: text.slice(0, 300) };
          return null;
        });
      }
    }
    expect(await runAll(jobs)).toEqual([]);
    const after = await rowCounts();
    expect({ ...after, api_keys: 0 }).toEqual({ ...before, api_keys: 0 });
  });
});

describe("a client that closes before sending its declared body", () => {
  it("is not answered 500, and the next request is answered normally", async () => {
    const url = new URL(stack.apiUrl);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          "POST /api/advertisers HTTP/1.1\r\n" +
            `Host: ${url.host}\r\n` +
            `Authorization: Bearer ${net.adminToken}\r\n` +
            "Content-Type: application/json\r\n" +
            "Content-Length: 100\r\n\r\n" +
            '{"name":"x',
        );
        // Half-close: the declared body never arrives; whatever the server answers is read.
        socket.end();
      });
      let data = "";
      socket.on("data", (d) => {
        data += d.toString();
      });
      socket.on("close", () => resolve(data));
      socket.on("error", () => resolve(data));
      setTimeout(() => {
        socket.destroy();
        resolve(data);
      }, 5000);
    });
    // The worker answers the half-sent request 400 in the envelope, never 5xx.
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"code":"INVALID_PARAMS"');
    const next = await send("GET", "/api/advertisers", net.adminToken);
    expect(next).toBeNull();
    const me = await fetch(`${stack.apiUrl}/api/auth/me`, {
      headers: { authorization: `Bearer ${net.adminToken}` },
    });
    expect(me.status).toBe(200);
  });
});
