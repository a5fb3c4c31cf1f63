// The Redis round trips of concurrent requests in one isolate, merged: every plain command and
// pipeline the Upstash client sends within a short window goes out as ONE `/pipeline` request, and
// each caller gets its own replies back (a command's error reply stays its own). Redis runs a
// pipeline's commands one by one, as it would separate requests; nothing is made atomic that was
// not. An HTTP failure (Redis unreachable) fails every command of the batch, so each request
// answers 503 as it would alone. MULTI/EXEC, streaming and requests with their own headers or
// abort signal go out unchanged.

import type { Redis } from "@upstash/redis/cloudflare";
import { createMicroBatcher, type Settled } from "./micro-batch";

type Reply = { result?: unknown; error?: string };

interface UpstashRequest {
  path?: string[];
  body?: unknown;
  headers?: Record<string, string>;
  signal?: unknown;
  isStreaming?: boolean;
  onMessage?: unknown;
  upstashSyncToken?: string;
}

/** The client's transport, as @upstash/redis calls it (its `Requester`). */
interface Requester {
  request<T = unknown>(req: UpstashRequest): Promise<T>;
}

/** How long the first request of a batch waits for others, ms. */
export const REDIS_BATCH_WINDOW_MS = 1;
/** Commands in one merged pipeline at most. */
const MAX_COMMANDS = 1000;

interface Item {
  commands: unknown[][];
}

/** A merged pipeline failed as a whole; the message keeps the client's reason, never the commands. */
export class MergedPipelineError extends Error {
  override name = "UpstashError";
  constructor(cause: unknown) {
    const reason = String((cause as { message?: unknown })?.message ?? cause).split(", command was")[0];
    super(`merged Redis pipeline failed: ${reason?.slice(0, 200)}`);
  }
}

function batchingRequester(inner: Requester): Requester {
  const batcher = createMicroBatcher<Item, Reply[]>({
    windowMs: REDIS_BATCH_WINDOW_MS,
    // Counted in requests; a request carries at most a few commands here.
    maxItems: MAX_COMMANDS / 4,
    async run(items): Promise<Settled<Reply[]>[]> {
      const body = items.flatMap((i) => i.commands);
      let replies: Reply[];
      try {
        replies = await inner.request<Reply[]>({ path: ["pipeline"], body });
      } catch (err) {
        // The client's error quotes the whole request body ("command was: ..."): here every
        // concurrent request's keys and values (link records carry signing secrets), which each
        // caller would then log. Each caller gets the failure without it (still an outage: 503).
        throw new MergedPipelineError(err);
      }
      let at = 0;
      return items.map((i) => {
        const own = replies.slice(at, at + i.commands.length);
        at += i.commands.length;
        return own.length === i.commands.length
          ? { ok: true, value: own }
          : { ok: false, error: new Error("Redis pipeline answered fewer replies than commands") };
      });
    },
  });
  // Everything but `request` (the sync token, telemetry headers) stays the inner transport's.
  const wrapper = Object.create(inner) as Requester;
  wrapper.request = async <T>(req: UpstashRequest): Promise<T> => {
    const path = req.path ?? [];
    const plain =
      req.headers === undefined &&
      req.signal === undefined &&
      !req.isStreaming &&
      req.onMessage === undefined &&
      Array.isArray(req.body);
    if (plain && path.length === 1 && path[0] === "pipeline") {
      return (await batcher.submit({ commands: req.body as unknown[][] })) as T;
    }
    if (plain && path.length === 0) {
      const [reply] = await batcher.submit({ commands: [req.body as unknown[]] });
      return reply as T;
    }
    return inner.request<T>(req);
  };
  return wrapper;
}

/**
 * Makes a client merge its requests with concurrent ones of the same isolate (see above). The
 * client keeps its transport in `client` (each command and pipeline calls `client.request`); the
 * one place that depends on that is here (a client without it is left as it is). Covered over
 * HTTP by postback.test.ts (concurrent postbacks, a nonce reused among them) and the guards' tests.
 *
 * @example
 * const redis = batchRedisRequests(new Redis({ url, token }));
 */
export function batchRedisRequests(redis: Redis): Redis {
  const target = redis as unknown as { client?: Requester };
  const inner = target.client;
  if (!inner || typeof inner.request !== "function") return redis;
  target.client = batchingRequester(inner);
  return redis;
}
