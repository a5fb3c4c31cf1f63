// POST /api/conversions/status: pending → approved → rejected with history and rollup, and another
// advertiser's conversion.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  conversionFields,
  conversionRow,
  expectRefused,
  ingestFixture,
  json,
  postSigned,
  statsRow,
} from "../../../../../../tests/ingest-support";
import { type SharedTestStack, sharedStack } from "../../../../../../tests/support";

let stack: SharedTestStack;

beforeAll(() => {
  stack = sharedStack();
});
afterAll(() => stack.close());

describe("POST /api/conversions/status", () => {
  it("moves pending → approved → rejected, keeps the history and moves the rollup", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 3 });
    const click = await json(
      await postSigned(stack, "/api/sdk/click", f, { offer_id: f.offer_id, tracking_code: f.tracking_code }),
    );
    const created = await json(
      await postSigned(
        stack,
        "/api/postback",
        f,
        conversionFields(f, { click_id: click.data.click_id, status: "pending", amount: 50 }),
      ),
    );
    const id = created.data.conversion_id;
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 0, revenue: "0.0000" });

    const approve = await postSigned(stack, "/api/conversions/status", f, {
      conversion_id: id,
      status: "approved",
    });
    expect(await json(approve)).toMatchObject({
      success: true,
      data: { conversion_id: id, previous_status: "pending", status: "approved" },
    });
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 1, revenue: "50.0000", payout: "3.0000" });

    const row = await conversionRow(stack, id);
    const reject = await postSigned(stack, "/api/conversions/status", f, {
      transaction_id: row.transaction_id,
      status: "rejected",
      reason: "chargeback",
    });
    expect(reject.status).toBe(200);
    expect(await statsRow(stack, f)).toMatchObject({ conversions: 0, revenue: "0.0000", payout: "0.0000" });

    const again = await postSigned(stack, "/api/conversions/status", f, {
      conversion_id: id,
      status: "approved",
    });
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ success: false, code: "CONFLICT" });

    const history = await stack.db
      .selectFrom("conversion_status_history")
      .select(["from_status", "to_status", "reason", "source"])
      .where("conversion_id", "=", id)
      .orderBy("id")
      .execute();
    expect(history).toEqual([
      { from_status: null, to_status: "pending", reason: null, source: "postback" },
      { from_status: "pending", to_status: "approved", reason: null, source: "api" },
      { from_status: "approved", to_status: "rejected", reason: "chargeback", source: "api" },
    ]);
    expect((await conversionRow(stack, id)).status).toBe("rejected");
  });

  it("refuses a status change from outside the conversion's offer's allowlist with 403 IP_NOT_ALLOWED", async () => {
    const f = await ingestFixture(stack, { payoutAmount: 3 });
    await stack.db
      .updateTable("offers")
      .set({ postback_ip_allowlist: ["192.0.2.0/28"] })
      .where("id", "=", f.offer_id)
      .execute();
    const created = await json(
      await postSigned(stack, "/api/postback", f, conversionFields(f, { status: "pending" }), {
        ip: "192.0.2.1",
      }),
    );
    const id = created.data.conversion_id;
    for (const status of ["approved", "rejected"]) {
      await expectRefused(
        await postSigned(
          stack,
          "/api/conversions/status",
          f,
          { conversion_id: id, status },
          { ip: "198.51.100.7" },
        ),
        403,
        "IP_NOT_ALLOWED",
      );
    }
    expect((await conversionRow(stack, id)).status).toBe("pending");
    const inside = await postSigned(
      stack,
      "/api/conversions/status",
      f,
      { conversion_id: id, status: "approved" },
      { ip: "192.0.2.2" },
    );
    expect(inside.status).toBe(200);
    expect((await conversionRow(stack, id)).status).toBe("approved");
  });

  it("answers 404 for a conversion of another advertiser", async () => {
    const mine = await ingestFixture(stack);
    const theirs = await ingestFixture(stack);
    const created = await json(await postSigned(stack, "/api/postback", theirs, conversionFields(theirs)));
    const res = await postSigned(stack, "/api/conversions/status", mine, {
      conversion_id: created.data.conversion_id,
      status: "rejected",
    });
    expect(res.status).toBe(404);
    expect((await conversionRow(stack, created.data.conversion_id)).status).toBe("approved");
  });
});
