// One Upstash client per isolate and environment.

import { Redis } from "@upstash/redis/cloudflare";
import type { ApiEnv } from "../env";

let cached: { env: ApiEnv; redis: Redis } | undefined;

export function apiRedis(env: ApiEnv): Redis {
  if (cached?.env !== env) {
    cached = {
      env,
      redis: new Redis({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
        retry: { retries: 2 },
      }),
    };
  }
  return cached.redis;
}
