// `pnpm demo`: creates (idempotently) a demo network, advertiser, publisher, offer and tracking
// link in the running stack and prints one JSON object with everything needed to try it.
// Only the JSON goes to stdout; notes go to stderr.

import { linkKey, shortKey, signLinkToken } from "@afftrack/core";
import { Redis } from "@upstash/redis";
import { createFixture, DEFAULT_DESTINATION, nodeDb } from "../fixtures";
import { readStackFile } from "./stack-file";

const stack = await readStackFile();
const db = nodeDb(stack.database_url);
try {
  const f = await createFixture(db, { key: "demo", destinationUrl: DEFAULT_DESTINATION });
  // The offer may have changed since the last run: drop the cached link records.
  const redis = new Redis({ url: stack.redis_rest_url, token: stack.redis_rest_token });
  await redis.del(linkKey(f.tracking_code), shortKey(f.short_code));

  const signed = await signLinkToken({ secret: f.link_secret, code: f.tracking_code });
  const out = {
    api_url: stack.api_url,
    edge_url: stack.edge_url,
    tenant_id: f.tenant_id,
    advertiser_id: f.advertiser_id,
    publisher_id: f.publisher_id,
    offer_id: f.offer_id,
    user_offer_id: f.user_offer_id,
    api_key: f.api_key,
    tracking_code: f.tracking_code,
    short_code: f.short_code,
    link_secret: f.link_secret,
    destination_url: f.destination_url,
    tracking_url: `${stack.edge_url}/c/${f.tracking_code}`,
    signed_link: `${stack.edge_url}/c/${signed}`,
    short_link: `${stack.edge_url}/s/${f.short_code}`,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  console.error(
    "Demo ready. The api_key is new on every run (keys are stored hashed); earlier demo keys are revoked.",
  );
} finally {
  await db.destroy();
}
