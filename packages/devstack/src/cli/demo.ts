// `pnpm demo`: creates (idempotently) a demo network, advertiser, publisher, offer and tracking
// link in the running stack and prints one JSON object with everything needed to try it.
// Only the JSON goes to stdout; notes go to stderr.

import { hashPassword, linkKey, randomBase62, shortKey, signLinkToken } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import { Redis } from "@upstash/redis";
import type { Kysely } from "kysely";
import { createFixture, DEFAULT_DESTINATION, nodeDb } from "../fixtures";
import { demoTracker } from "./demo-tracker";
import { readStackFile } from "./stack-file";

type DemoRole = "network_admin" | "advertiser" | "publisher";

/** Demo users get a fresh password on every run (only its hash is stored) and log in through the API. */
async function demoToken(
  db: Kysely<Database>,
  apiUrl: string,
  user: {
    id: string;
    email: string;
    role: DemoRole;
    tenant_id: string;
    advertiser_id?: string;
    publisher_id?: string;
  },
  password: string,
): Promise<string> {
  const password_hash = await hashPassword(password);
  await db
    .insertInto("users")
    .values({
      id: user.id,
      tenant_id: user.tenant_id,
      email: user.email,
      name: user.email.split("@")[0] ?? user.email,
      password_hash,
      role: user.role,
      advertiser_id: user.advertiser_id ?? null,
      publisher_id: user.publisher_id ?? null,
    })
    .onConflict((oc) => oc.column("id").doUpdateSet({ password_hash }))
    .execute();
  const res = await fetch(`${apiUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: user.email, password }),
  });
  const body = (await res.json()) as { success: boolean; data?: { access_token: string }; error?: string };
  if (!res.ok || !body.data)
    throw new Error(`demo login for ${user.email} failed: ${res.status} ${body.error ?? ""}`);
  return body.data.access_token;
}

const stack = await readStackFile();
const db = nodeDb(stack.database_url);
try {
  const f = await createFixture(db, { key: "demo", destinationUrl: DEFAULT_DESTINATION });
  // The offer may have changed since the last run: drop the cached link records.
  const redis = new Redis({ url: stack.redis_rest_url, token: stack.redis_rest_token });
  await redis.del(linkKey(f.tracking_code), shortKey(f.short_code));

  const password = randomBase62(20);
  const [admin_token, advertiser_token, publisher_token] = await Promise.all([
    demoToken(
      db,
      stack.api_url,
      {
        id: "usr_demo_admin",
        email: "admin@demo.afftrack.test",
        role: "network_admin",
        tenant_id: f.tenant_id,
      },
      password,
    ),
    demoToken(
      db,
      stack.api_url,
      {
        id: "usr_demo_advertiser",
        email: "advertiser@demo.afftrack.test",
        role: "advertiser",
        tenant_id: f.tenant_id,
        advertiser_id: f.advertiser_id,
      },
      password,
    ),
    demoToken(
      db,
      stack.api_url,
      {
        id: "usr_demo_publisher",
        email: "publisher@demo.afftrack.test",
        role: "publisher",
        tenant_id: f.tenant_id,
        publisher_id: f.publisher_id,
      },
      password,
    ),
  ]);
  const signed = await signLinkToken({ secret: f.link_secret, code: f.tracking_code });
  const tracker = await demoTracker(db, f.tenant_id, stack.api_url);
  const out = {
    dashboard_url: stack.dashboard_url ?? null,
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
    admin_token,
    advertiser_token,
    publisher_token,
    tracker_url: tracker.tracker_url,
    streamtools: tracker.streamtools,
    demo_users: {
      password,
      admin: "admin@demo.afftrack.test",
      advertiser: "advertiser@demo.afftrack.test",
      publisher: "publisher@demo.afftrack.test",
    },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  console.error(
    "Demo ready. The api_key is new on every run (keys are stored hashed); earlier demo keys are revoked.",
  );
  if (stack.dashboard_url) {
    console.error(`Dashboard ${stack.dashboard_url}/login — password ${password} for each demo user:`);
    for (const [role, email] of Object.entries(out.demo_users).filter(([k]) => k !== "password"))
      console.error(`  ${role.padEnd(10)} ${email}`);
  }
} finally {
  await db.destroy();
}
