// A small in-isolate cache for records every ingest request reads (API keys, offers): an entry is
// served for a fixed number of milliseconds after its load started, and the oldest entries go
// first when it is full. A change in Postgres is therefore seen everywhere within the TTL, with no
// invalidation message to lose. Only settled values are shared: concurrent misses each load,
// because workerd cancels a request left waiting on another request's I/O.

/**
 * How long API-key and offer records are served from an isolate's memory: the bound within which a
 * revoked key, a paused offer or a changed allowlist takes effect for ingestion everywhere.
 */
export const INGEST_CACHE_TTL_MS = 1000;

export interface IsolateCacheOptions {
  /** How long an entry is served after its load started. */
  ttlMs: number;
  /** Most entries kept (default 1,000). */
  maxEntries?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface IsolateCache<V> {
  /** The cached value, or `load()`'s; failures are not cached. */
  get(key: string, load: () => Promise<V>): Promise<V>;
  delete(key: string): void;
  readonly size: number;
}

/**
 * @example
 * const keys = createIsolateCache<ApiKeyRecord | null>({ ttlMs: 1000 });
 * const record = await keys.get(presentedKey, () => authenticateApiKey(db, presentedKey));
 */
export function createIsolateCache<V>(opts: IsolateCacheOptions): IsolateCache<V> {
  const max = opts.maxEntries ?? 1000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { loadedAt: number; value: V }>();
  return {
    async get(key, load) {
      const hit = entries.get(key);
      if (hit && now() - hit.loadedAt < opts.ttlMs) return hit.value;
      const loadedAt = now();
      const value = await load();
      entries.delete(key);
      entries.set(key, { loadedAt, value });
      if (entries.size > max) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return value;
    },
    delete: (key) => {
      entries.delete(key);
    },
    get size() {
      return entries.size;
    },
  };
}
