// POST /api/postback with the seed's example body: the answer, and attribution to clicks in Postgres,
// in the edge's Redis copy, after a real redirect, not counted, or of another advertiser.

import { CLICK_ATTRIBUTION_TTL_SECONDS, clickKey, newClickId, SEED_POSTBACK_REQUEST } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  conversionFields,
  conversionRow,
  ingestFixture,
  json,
  postSigned,
  seedFields,
  statsRow,
} from "../../../../../tests/ingest-support";
import {
  BROWSER_UA,
  clickIdOf,
  nextIp,
  type SharedTestStack,
  sharedStack,
  signedPath,
  waitFor,
} from "../../../../../tests/support";

let stack: SharedTestStack;
let redis: Redis;

beforeAll(() => {
  stack = sharedStack();
  redis = new Redis({ url: stack.redisRestUrl, token: stack.redisRestToken });
});
afterAll(() => stack.close());

describe("POST /api/postback", () => {
  it("accepts the seed's postback body and answers with conversion_id only", async () => {
    const f = await ingestFixture(stack);
    const res = await postSigned(stack, "/api/postback", f, {
      ...seedFields(SEED_POSTBACK_REQUEST),
      offer_id: f.offer_id,
    });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      success: true,
      message: "Postback received",
      data: { conversion_id: expect.stringMatching(/^conv_/) },
    });
    // "click_xyz" is no click of ours: recorded, but not attributed and no payout.
    expect(await conversionRow(stack, body.data.conversion_id)).toMatchObject({
      attribution: "click_not_found",
      reported_click_id: "click_xyz",
      click_id: null,
      publisher_id: null,
      payout: "0.0000",
      source: "postback",
    });
  });

  it("attributes a conversion whose click is still in the queue (edge's Redis copy)", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 7 });
    const clickId = newClickId();
    await redis.set(
      clickKey(clickId),
      {
        click_id: clickId,
        tenant_id: f.tenant_id,
        advertiser_id: f.advertiser_id,
        offer_id: f.offer_id,
        publisher_id: f.publisher_id,
        tracking_code: f.tracking_code,
        verdict: "valid",
        created_at: Date.now(),
      },
      { ex: CLICK_ATTRIBUTION_TTL_SECONDS },
    );
    const inPostgres = await stack.db
      .selectFrom("clicks")
      .select("click_id")
      .where("click_id", "=", clickId)
      .executeTakeFirst();
    expect(inPostgres).toBeUndefined();
    const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await conversionRow(stack, body.data.conversion_id)).toMatchObject({
      attribution: "click",
      click_id: clickId,
      publisher_id: f.publisher_id,
      tracking_code: f.tracking_code,
      payout: "7.0000",
    });
  });

  it("attributes a conversion posted right after a real redirect through the edge", async () => {
    const f = await ingestFixture(stack);
    const visit = await stack.mf.dispatchFetch(new URL(await signedPath(f), stack.edgeUrl), {
      redirect: "manual",
      headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
    });
    expect(visit.status).toBe(302);
    const clickId = clickIdOf(visit.headers.get("location"));
    // The edge writes the attribution in waitUntil; give it the moment a real advertiser would take.
    let body: Awaited<ReturnType<typeof json>> | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
      body = await json(res);
      expect(res.status, JSON.stringify(body)).toBe(200);
      const row = await conversionRow(stack, body.data.conversion_id);
      if (row.attribution === "click") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await conversionRow(stack, body?.data.conversion_id)).toMatchObject({
      click_id: clickId,
      publisher_id: f.publisher_id,
    });
  });

  it("records a conversion on a click that was not counted, but pays no one for it", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 9 });
    // An unsigned link with legacy links off: the visitor lands, the click is invalid_signature.
    const visit = await stack.mf.dispatchFetch(new URL(`/c/${f.tracking_code}`, stack.edgeUrl), {
      redirect: "manual",
      headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
    });
    expect(visit.status).toBe(302);
    const clickId = clickIdOf(visit.headers.get("location"));
    await waitFor(() =>
      stack.db.selectFrom("clicks").select("click_id").where("click_id", "=", clickId).executeTakeFirst(),
    );
    const res = await postSigned(stack, "/api/postback", f, conversionFields(f, { click_id: clickId }));
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await conversionRow(stack, body.data.conversion_id)).toMatchObject({
      attribution: "click_not_counted",
      click_verdict: "invalid_signature",
      reported_click_id: clickId,
      publisher_id: null,
      payout: "0.0000",
    });
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 0 });
  });

  it("does not attribute a click of another advertiser, but records the conversion", async () => {
    const mine = await ingestFixture(stack);
    const theirs = await ingestFixture(stack);
    const click = await json(
      await postSigned(stack, "/api/sdk/click", theirs, {
        offer_id: theirs.offer_id,
        tracking_code: theirs.tracking_code,
      }),
    );
    const res = await postSigned(
      stack,
      "/api/postback",
      mine,
      conversionFields(mine, { click_id: click.data.click_id }),
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(await conversionRow(stack, body.data.conversion_id)).toMatchObject({
      attribution: "click_of_other_advertiser",
      click_id: null,
      publisher_id: null,
      payout: "0.0000",
    });
    expect(await statsRow(stack, theirs)).toMatchObject({ conversions: 0 });
  });
});

// Concurrent postbacks share Redis round trips and insert statements inside the isolate
// (services/redis-batch.ts, services/conversion-batch.ts): each caller still gets its own answer.
describe("POST /api/postback, concurrent", () => {
  it("records a transaction sent many times at once exactly once: one 200, the rest 409", async () => {
    const f = await ingestFixture(stack);
    const fields = conversionFields(f);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => postSigned(stack, "/api/postback", f, fields)),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const bodies = await Promise.all(answers.map(json));
    for (const b of bodies.filter((b) => !b.success)) expect(b.code).toBe("DUPLICATE_TRANSACTION");
    const rows = await stack.db
      .selectFrom("conversions")
      .select("id")
      .where("advertiser_id", "=", f.advertiser_id)
      .execute();
    expect(rows.map((r) => r.id)).toEqual(bodies.filter((b) => b.success).map((b) => b.data.conversion_id));
  });

  it("answers each of many concurrent postbacks with its own conversion, and a reused nonce once", async () => {
    const f = await ingestFixture(stack);
    const sent = Array.from({ length: 12 }, () => conversionFields(f));
    const shared = `shared${Date.now()}nonce`;
    const [distinct, sameNonce] = await Promise.all([
      Promise.all(sent.map((fields) => postSigned(stack, "/api/postback", f, fields))),
      Promise.all(
        Array.from({ length: 4 }, () =>
          postSigned(stack, "/api/postback", f, conversionFields(f), { nonce: shared }),
        ),
      ),
    ]);
    const bodies = await Promise.all(distinct.map(json));
    expect(distinct.map((r) => r.status)).toEqual(sent.map(() => 200));
    for (const [i, body] of bodies.entries()) {
      expect(await conversionRow(stack, body.data.conversion_id)).toMatchObject({
        transaction_id: sent[i]?.transaction_id,
        amount: "29.9900",
      });
    }
    expect(sameNonce.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    for (const r of sameNonce.filter((r) => r.status === 409))
      expect((await json(r)).code).toBe("REPLAYED_REQUEST");
  });
});
