// The influencer tracker's part of `pnpm demo`: the customer "demo" with the seed's product
// "product" (idempotent) and a fresh access key on every run (keys are stored hashed; earlier
// demo keys are revoked), for the seed's influencer "influ_test".

import type { Database } from "@afftrack/db";
import { createTrackerAccessKey } from "@afftrack/db";
import type { Kysely } from "kysely";

export interface DemoTracker {
  tracker_url: string;
  streamtools: {
    access_key: string;
    customer_code: string;
    product: string;
    influencer_id: string;
    widget_url: string;
  };
}

const CUSTOMER_ID = "cus_demo";
const CUSTOMER_CODE = "demo";
const PRODUCT = "product";
const INFLUENCER = "influ_test";

export async function demoTracker(
  db: Kysely<Database>,
  tenantId: string,
  apiUrl: string,
): Promise<DemoTracker> {
  await db
    .insertInto("tracker_customers")
    .values({ id: CUSTOMER_ID, tenant_id: tenantId, customer_code: CUSTOMER_CODE, name: "Demo brand" })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  await db
    .insertInto("tracker_products")
    .values({
      id: "prd_demo",
      tenant_id: tenantId,
      customer_id: CUSTOMER_ID,
      code: PRODUCT,
      name: "Sign-ups",
      goal: 100,
      event_types: [],
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  await db
    .updateTable("tracker_access_keys")
    .set({ status: "revoked" })
    .where("customer_id", "=", CUSTOMER_ID)
    .execute();
  const issued = await createTrackerAccessKey(db, tenantId, CUSTOMER_ID);
  return {
    tracker_url: `${apiUrl}/t`,
    streamtools: {
      access_key: issued.key,
      customer_code: CUSTOMER_CODE,
      product: PRODUCT,
      influencer_id: INFLUENCER,
      widget_url: `${apiUrl}/w/${CUSTOMER_CODE}/${PRODUCT}/${INFLUENCER}`,
    },
  };
}
