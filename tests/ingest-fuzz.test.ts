// A fuzz set of malformed requests against every ingestion endpoint: never a 5xx, always the
// seed's error envelope, and not a single row written.

import { createApiKey } from "@afftrack/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversionFields, type IngestFixture, ingestFixture, postRaw, seedSigned } from "./ingest-support";
import { type SharedTestStack, sharedStack } from "./support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

const ENDPOINTS = [
  "/api/postback",
  "/api/sdk/conversion",
  "/api/sdk/click",
  "/api/sdk/batch",
  "/api/conversions/status",
];

/** Bodies that are not a JSON object at all. */
const RAW_GARBAGE: Array<string | Uint8Array> = [
  "",
  " ",
  "{",
  "}",
  "[",
  "null",
  "true",
  "0",
  "-1e999",
  '"string"',
  "[]",
  "[{}]",
  "{'offer_id': 'x'}",
  '{"offer_id": }',
  '{"offer_id": "x",}',
  '{"amount": NaN}',
  '{"amount": Infinity}',
  '{"a":1}{"b":2}',
  "\u0000",
  '{"offer_id":"\\u0000"}',
  '{"\\ud800":1}',
  '{"offer_id":"\\udfff"}',
  `${"[".repeat(5000)}${"]".repeat(5000)}`,
  `{"a":${'{"a":'.repeat(2000)}1${"}".repeat(2000)}}`,
  "<xml/>",
  "offer_id=1&amount=2",
  new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
  new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
];

/** Field values that are wrong for the field they are put in. */
const BAD_VALUES: unknown[] = [
  null,
  true,
  -1,
  "1e400",
  "",
  "x".repeat(5000),
  [],
  {},
  { nested: { deeper: true } },
  ["a"],
];

const FIELD_MUTATIONS: Array<[string, unknown]> = [
  ["offer_id", 123],
  ["offer_id", ""],
  ["offer_id", null],
  ["offer_id", "o".repeat(65)],
  ["transaction_id", 42],
  ["transaction_id", ""],
  ["transaction_id", "t".repeat(129)],
  ["transaction_id", ["txn"]],
  ["amount", "29.99"],
  ["amount", -0.01],
  ["amount", 1e12],
  ["amount", null],
  ["amount", { value: 1 }],
  ["amount", true],
  ["currency", "usd1"],
  ["currency", "XXX"],
  ["currency", "EURO"],
  ["currency", ""],
  ["currency", 840],
  ["status", "paid"],
  ["status", "APPROVED "],
  ["status", 1],
  ["click_id", 5],
  ["click_id", "c".repeat(65)],
  ["custom_params", "string"],
  ["custom_params", [1, 2]],
  ["custom_params", { nested: { a: 1 } }],
  ["custom_params", Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))],
  ["custom_params", { k: "v".repeat(1025) }],
  ["metadata", { list: [1, 2] }],
  ["device_info", "android"],
  ["device_info", { model: "m".repeat(65) }],
  ["user_id", 7],
  ["tracking_code", "bad code!"],
  ["tracking_code", ""],
  ["tracking_code", 17],
  ["sub_id_1", "s".repeat(256)],
  ["ip", "999.1.1.1"],
  ["ip", 12],
  ["user_agent", ["ua"]],
  ["events", "not a list"],
  ["events", []],
  ["events", Array.from({ length: 101 }, () => ({ type: "click" }))],
  ["conversion_id", 9],
  ["reason", "r".repeat(501)],
];

const ENVELOPE_MUTATIONS: Array<[string, unknown]> = [
  ["advertiser_id", 1],
  ["advertiser_id", ""],
  ["advertiser_id", null],
  ["timestamp", "1700000000000"],
  ["timestamp", 1.5],
  ["timestamp", -5],
  ["timestamp", null],
  ["nonce", "short"],
  ["nonce", "has spaces in it!"],
  ["nonce", 12345678],
  ["nonce", "n".repeat(129)],
  ["signature", 1234],
  ["signature", null],
  ["signature", "zz"],
];

interface Case {
  path: string;
  body: string | Uint8Array;
  label: string;
}

function baseFields(path: string, f: IngestFixture): Record<string, unknown> {
  switch (path) {
    case "/api/sdk/click":
      return { offer_id: f.offer_id, tracking_code: f.tracking_code };
    case "/api/sdk/batch":
      return { events: [{ type: "conversion", ...conversionFields(f) }] };
    case "/api/conversions/status":
      return { transaction_id: "txn_missing", status: "approved" };
    default:
      return conversionFields(f);
  }
}

async function buildCases(f: IngestFixture): Promise<Case[]> {
  const cases: Case[] = [];
  ENDPOINTS.forEach((path, i) => {
    // Every endpoint gets a share of the raw garbage.
    RAW_GARBAGE.forEach((body, j) => {
      if (j % ENDPOINTS.length === i || j < 6) cases.push({ path, body, label: `raw#${j}` });
    });
  });
  for (const path of ENDPOINTS) {
    for (const [field, value] of FIELD_MUTATIONS) {
      const fields = { ...baseFields(path, f), [field]: value };
      // Only mutations of a field the endpoint reads are malformed for it.
      const relevant =
        field in baseFields(path, f) ||
        (path !== "/api/sdk/click" && path !== "/api/sdk/batch" && path !== "/api/conversions/status"
          ? ["click_id", "custom_params", "metadata", "device_info", "user_id"].includes(field)
          : path === "/api/sdk/click"
            ? ["sub_id_1", "ip", "user_agent", "custom_params", "device_info", "user_id"].includes(field)
            : path === "/api/conversions/status"
              ? ["conversion_id", "reason", "status"].includes(field)
              : field === "events");
      if (!relevant) continue;
      cases.push({
        path,
        body: JSON.stringify(await seedSigned(f, fields)),
        label: `${field}=${JSON.stringify(value)?.slice(0, 40)}`,
      });
    }
    for (const [field, value] of ENVELOPE_MUTATIONS) {
      const body = { ...(await seedSigned(f, baseFields(path, f))), [field]: value };
      cases.push({ path, body: JSON.stringify(body), label: `envelope ${field}=${JSON.stringify(value)}` });
    }
    for (const value of BAD_VALUES) {
      const fields =
        path === "/api/sdk/batch"
          ? { events: [{ type: "conversion", ...conversionFields(f), offer_id: value }] }
          : {
              ...baseFields(path, f),
              offer_id: value,
              ...(path === "/api/conversions/status" ? { status: value } : {}),
            };
      const body = await seedSigned(f, fields);
      cases.push({
        path,
        body: JSON.stringify(body),
        label: `bad value ${JSON.stringify(value)?.slice(0, 30)}`,
      });
    }
  }
  // Batches whose envelope is fine but every event is malformed: 200 with every event refused.
  const badEvents = [
    "text",
    42,
    null,
    [],
    { type: "click" },
    { type: "conversion", offer_id: f.offer_id },
    { type: "conversion", offer_id: f.offer_id, transaction_id: "t1", amount: -1 },
    { type: "refund", offer_id: f.offer_id, transaction_id: "t2" },
    { offer_id: f.offer_id, transaction_id: "t3" },
    { type: "click", offer_id: f.offer_id, tracking_code: "no such code" },
  ];
  cases.push({
    path: "/api/sdk/batch",
    body: JSON.stringify(await seedSigned(f, { events: badEvents })),
    label: "batch of bad events",
  });
  return cases;
}

describe("fuzzing the ingestion endpoints", () => {
  it("answers at least 200 malformed requests with a 4xx envelope and writes no row", async () => {
    const f = await ingestFixture(stack);
    const cases = await buildCases(f);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    // Fresh keys of the same advertiser keep each under its 60-per-minute limit.
    let key = f.api_key;
    const outcomes: Array<{ label: string; path: string; status: number; code?: string; accepted?: number }> =
      [];
    for (const [i, c] of cases.entries()) {
      if (i % 50 === 0 && i > 0) key = (await createApiKey(stack.db, f)).key;
      let body = c.body;
      if (typeof body === "string" && body.includes(f.api_key)) {
        // Re-sign for the current key when the body carries a signature for the first one.
        const parsed = JSON.parse(body) as Record<string, unknown>;
        const { api_key: _k, timestamp: _t, nonce: _n, signature: _s, advertiser_id: _a, ...fields } = parsed;
        const resigned = await seedSigned({ api_key: key, advertiser_id: f.advertiser_id }, fields);
        for (const name of ["advertiser_id", "timestamp", "nonce", "signature"]) {
          if (parsed[name] !== resigned[name] && name in parsed && !isOriginal(parsed, name))
            resigned[name] = parsed[name];
        }
        body = JSON.stringify(resigned);
      }
      const res = await postRaw(stack, c.path, body, { apiKeyHeader: key });
      const text = await res.text();
      let envelope: { success?: boolean; code?: string; data?: { accepted?: number } } = {};
      try {
        envelope = JSON.parse(text);
      } catch {
        envelope = {};
      }
      outcomes.push({
        label: c.label,
        path: c.path,
        status: res.status,
        ...(envelope.code ? { code: envelope.code } : {}),
        ...(envelope.data?.accepted !== undefined ? { accepted: envelope.data.accepted } : {}),
      });
      if (res.status >= 400) expect(envelope.success, `${c.path} ${c.label}`).toBe(false);
    }
    const serverErrors = outcomes.filter((o) => o.status >= 500);
    expect(serverErrors).toEqual([]);
    const accepted = outcomes.filter(
      (o) => o.status < 400 && !(o.path === "/api/sdk/batch" && o.accepted === 0),
    );
    expect(accepted).toEqual([]);
    expect(outcomes.filter((o) => o.status === 429)).toEqual([]);
    // The set must reach past the signature check: most refusals are about the fields themselves.
    const byCode = new Map<string, number>();
    for (const o of outcomes)
      byCode.set(o.code ?? String(o.status), (byCode.get(o.code ?? String(o.status)) ?? 0) + 1);
    console.log(`fuzz: ${outcomes.length} requests`, Object.fromEntries(byCode));
    expect(byCode.get("INVALID_PARAMS") ?? 0).toBeGreaterThanOrEqual(150);

    for (const table of ["conversions", "clicks"] as const) {
      const row = await stack.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("advertiser_id", "=", f.advertiser_id)
        .executeTakeFirstOrThrow();
      expect(Number(row.n), table).toBe(0);
    }
    const stats = await stack.db
      .selectFrom("stats_daily")
      .selectAll()
      .where("offer_id", "=", f.offer_id)
      .execute();
    expect(stats).toEqual([]);
  }, 120_000);
});

/** Envelope mutations are kept as they were; everything else is re-signed for the current key. */
const ENVELOPE_FIELDS = new Set(ENVELOPE_MUTATIONS.map(([name]) => name));
function isOriginal(parsed: Record<string, unknown>, name: string): boolean {
  if (!ENVELOPE_FIELDS.has(name)) return true;
  const v = parsed[name];
  if (name === "advertiser_id") return typeof v === "string" && v.startsWith("adv_");
  if (name === "timestamp") return typeof v === "number" && Number.isSafeInteger(v) && v > 1e12;
  if (name === "nonce") return typeof v === "string" && /^[A-Za-z0-9]{32}$/.test(v);
  if (name === "signature") return typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  return true;
}
