// The highest totals a widget channel has seen (totals only grow; notices can arrive out of order),
// kept in the Durable Object's storage so they survive hibernation and eviction: a late notice
// never shows a widget a lower total than one it was already shown.

/** What BestTotals needs of the Durable Object's storage (`ctx.storage`). */
export interface TotalsStorage {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
}

const STORAGE_KEY = "best-totals";

/** "" is the influencer's total; "c:{campaign}" a campaign's. */
export type TotalsKey = string;

export class BestTotals {
  private best: Map<TotalsKey, number> | undefined;
  private dirty = false;

  constructor(private readonly storage: TotalsStorage) {}

  /** Reads the stored totals once per wake-up. */
  async load(): Promise<void> {
    if (this.best) return;
    const stored = (await this.storage.get<Record<TotalsKey, number>>(STORAGE_KEY)) ?? {};
    this.best ??= new Map(Object.entries(stored));
  }

  /** The higher of the known best and `total`, remembered. Call load() first. */
  remember(key: TotalsKey, total: number | null | undefined): number {
    const best = this.best ?? new Map<TotalsKey, number>();
    this.best = best;
    const known = best.get(key) ?? 0;
    if ((total ?? 0) <= known) return known;
    best.set(key, total as number);
    this.dirty = true;
    return total as number;
  }

  /** Writes the totals back when they changed (the runtime's output gate holds replies until stored). */
  async flush(): Promise<void> {
    if (!this.dirty || !this.best) return;
    this.dirty = false;
    await this.storage.put(STORAGE_KEY, Object.fromEntries(this.best));
  }
}
