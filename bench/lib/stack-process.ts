// Child-process entry for benchmarks: runs the local stack (gateway, bridge, Miniflare) in its
// own Node process, so the load generator in the parent does not share an event loop with the
// Redis gateway or the Postgres bridge. Options come as JSON in argv[2]; it prints one JSON line
// with the URLs and a fixture, then runs until SIGTERM.

import { createFixture, type FixtureOptions, nodeDb } from "../../packages/devstack/src/fixtures";
import { type StackOptions, startStack } from "../../packages/devstack/src/stack";

const opts = JSON.parse(process.argv[2] ?? "{}") as { stack: StackOptions; fixture?: FixtureOptions };
const stack = await startStack(opts.stack);
const db = nodeDb(stack.databaseUrl);
const fixture = await createFixture(db, opts.fixture ?? {});
await db.destroy();
process.stdout.write(
  `${JSON.stringify({ edgeUrl: stack.edgeUrl, apiUrl: stack.apiUrl, databaseUrl: stack.databaseUrl, neonHttpUrl: stack.neonHttpUrl, redisRestUrl: stack.redisRestUrl, pooled: stack.pooled, fixture })}\n`,
);
const stop = async () => {
  await stack.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
