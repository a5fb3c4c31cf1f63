// `pnpm db:reseal-secrets`: after a new key was put first in WEBHOOK_SECRETS_KEY, re-seal every
// webhook/postback secret still sealed under an older key (or stored in clear before migration
// 012) under the new one, so the old key can be dropped. Run it with the same WEBHOOK_SECRETS_KEY
// the workers have (every key still in use listed) against DATABASE_URL. Safe to run again, and
// beside live traffic: a row changed meanwhile is left for the next run. Prints counts, never a
// secret or a key.

import { parseSecretKeyring } from "@afftrack/core";
import { resealWebhookSecrets } from "@afftrack/db";
import { nodeDb } from "../fixtures";

const url = process.env.DATABASE_URL;
if (!url || !process.env.WEBHOOK_SECRETS_KEY) {
  console.error("Set DATABASE_URL and WEBHOOK_SECRETS_KEY (the new key first, then the older ones)");
  process.exit(1);
}
let ring: Awaited<ReturnType<typeof parseSecretKeyring>>;
try {
  ring = await parseSecretKeyring(process.env.WEBHOOK_SECRETS_KEY);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const db = nodeDb(url);
try {
  let resealed = 0;
  for (;;) {
    const n = await resealWebhookSecrets(db, ring);
    if (n === 0) break;
    resealed += n;
  }
  const left = await db
    .selectFrom("webhook_secrets")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where((eb) => eb.or([eb("key_id", "is", null), eb("key_id", "<>", ring.current)]))
    .executeTakeFirstOrThrow();
  console.log(JSON.stringify({ resealed, key_id: ring.current, left: Number(left.n) }));
  if (Number(left.n) > 0) process.exitCode = 2;
} finally {
  await db.destroy();
}
