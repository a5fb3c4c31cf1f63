// Throttles for the unauthenticated account endpoints (login, register). Each attempt is counted
// in Redis BEFORE the expensive or revealing work, in one atomic step, so concurrent requests
// cannot all pass a check that none of them has counted yet. Clients are keyed by the daily keyed
// IP hash, never the IP.

import { ApiError, clientNetworkOf, hashIp, sha256Hex } from "@afftrack/core";
import type { AppContext } from "../context";

export const LOGIN_FAILURE_LIMIT = 10;
export const LOGIN_FAILURE_WINDOW_SECONDS = 900;
/** Login attempts one client may have open (not yet succeeded) across all accounts in the window. */
export const CLIENT_FAILURE_LIMIT = 50;
export const REGISTER_WINDOW_SECONDS = 3600;

/**
 * INCR the keys in order (setting each expiry when new) and answer 1 when all stay within their
 * limit. The first key over its limit stops the count: the keys after it (a client's, the global
 * one) are not charged for a request that was refused, so one client's refused burst cannot use up
 * everyone's ceiling. KEYS = counters, narrowest first; ARGV = [window seconds, limit of KEYS[1], ...].
 */
const COUNT_FIRST = `
for i, key in ipairs(KEYS) do
  local n = redis.call("INCR", key)
  if n == 1 then redis.call("EXPIRE", key, tonumber(ARGV[1])) end
  if n > tonumber(ARGV[i + 1]) then return 0 end
end
return 1`;

async function countFirst(c: AppContext, windowSeconds: number, limits: Array<[string, number]>) {
  const passed = await c.get("redis").eval<string[], number>(
    COUNT_FIRST,
    limits.map(([key]) => key),
    [String(windowSeconds), ...limits.map(([, limit]) => String(limit))],
  );
  return Number(passed) === 1;
}

async function clientOf(c: AppContext): Promise<string> {
  const ip = c.req.header("cf-connecting-ip")?.trim() || "unknown";
  // An IPv6 client is its /64: every address of one subscriber shares the same counters.
  return hashIp(c.get("config").ipHashSecret, clientNetworkOf(ip));
}

async function loginKeys(c: AppContext, email: string) {
  const client = await clientOf(c);
  return { account: `login:fail:${await sha256Hex(email)}:${client}`, client: `login:fail:client:${client}` };
}

/**
 * Counts a login attempt per (email, client) and per client, then throws RATE_LIMITED when either
 * is over its limit. Guesses from one address lock that address out of that account without
 * locking the real user out from theirs; a client spraying many accounts is stopped too. A failed
 * attempt is never given back, so at most LOGIN_FAILURE_LIMIT passwords are ever checked per
 * window, however many requests race.
 */
export async function takeLoginAttempt(c: AppContext, email: string): Promise<void> {
  const keys = await loginKeys(c, email);
  const ok = await countFirst(c, LOGIN_FAILURE_WINDOW_SECONDS, [
    [keys.account, LOGIN_FAILURE_LIMIT],
    [keys.client, CLIENT_FAILURE_LIMIT],
  ]);
  if (!ok) throw new ApiError("RATE_LIMITED", "Too many failed logins; try again later");
}

/** A successful login clears the pair's count and gives its attempt back to the client. */
export async function clearLoginAttempts(c: AppContext, email: string): Promise<void> {
  const keys = await loginKeys(c, email);
  const p = c.get("redis").pipeline();
  p.del(keys.account);
  p.decr(keys.client);
  await p.exec();
}

/**
 * Counts a registration per client and across the network (the global ceiling bounds the password
 * hashing anyone can make us do), and throws RATE_LIMITED with Retry-After when over either.
 */
export async function takeRegistration(c: AppContext): Promise<void> {
  const config = c.get("config");
  const hour = Math.floor(Date.now() / (REGISTER_WINDOW_SECONDS * 1000));
  const ok = await countFirst(c, REGISTER_WINDOW_SECONDS, [
    [`register:client:${await clientOf(c)}:${hour}`, config.registerLimitPerHour],
    [`register:all:${hour}`, config.registerLimitGlobalPerHour],
  ]);
  if (!ok) {
    const reset = (hour + 1) * REGISTER_WINDOW_SECONDS * 1000;
    c.header("Retry-After", String(Math.max(1, Math.ceil((reset - Date.now()) / 1000))));
    throw new ApiError("RATE_LIMITED", "Too many registrations; try again later");
  }
}
