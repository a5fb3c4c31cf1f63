import autocannon from "autocannon";
import { createFixture, nodeDb } from "../packages/devstack/src/fixtures";
import { startStack } from "../packages/devstack/src/stack";
import { signedLinkPath } from "./lib/signing";
import { withTempDatabase } from "./lib/temp-database";
await withTempDatabase(async (databaseUrl) => {
  const stack = await startStack({ databaseUrl, redisUrl: "redis://127.0.0.1:6379/0", migrate: false, pooler: "auto", verbose: true });
  const db = nodeDb(databaseUrl);
  const f = await createFixture(db);
  let seq = 0;
  const r = await autocannon({ url: stack.edgeUrl, connections: 32, duration: 20, requests: [{ setupRequest: (req) => ({ ...req, path: signedLinkPath(f), headers: { "cf-connecting-ip": `10.2.${(seq >> 8) & 255}.${seq++ & 255}` } }) }] });
  console.log("CODES", JSON.stringify(r.statusCodeStats));
  await db.destroy(); await stack.close();
});
