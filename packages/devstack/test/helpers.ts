// Shared fixtures: addresses of the real servers the tests run against, and small async helpers.
import { freePort } from "../src/free-port";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A port that was free a moment ago and has nothing listening on it now. */
export const closedPort = freePort;

export async function elapsed<T>(
  fn: () => Promise<T>,
): Promise<{ ms: number; outcome: PromiseSettledResult<T> }> {
  const start = performance.now();
  const [outcome] = await Promise.allSettled([fn()]);
  return { ms: performance.now() - start, outcome: outcome as PromiseSettledResult<T> };
}
