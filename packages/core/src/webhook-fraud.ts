// `fraud.detected` webhook events (issue 10): what the clicks consumer derives from a committed
// batch (clicks with a fraud verdict, and every fraud rule that fired on a click), mirroring the
// fraud_events rows `insertClickBatch` writes, and what a conversion's time rule adds. One event
// per (click_id, kind), the fraud_events key, so its event id is stable across redeliveries.

import { type ClickEvent, FRAUD_VERDICTS } from "./click";

export interface FraudFact {
  tenant_id: string;
  /** The fraud_events kind: a fraud verdict, a click rule flag, or a conversion time flag. */
  kind: string;
  click_id: string;
  offer_id: string;
  publisher_id: string | null;
  advertiser_id: string;
  verdict: string | null;
  flags: string[];
  /** When it happened (ms since the epoch). */
  at: number;
  /** Set for a conversion's fraud event. */
  conversion_id?: string;
  transaction_id?: string;
}

/** Queue messages carry at most this many facts (well under the 128 KB message limit). */
export const MAX_FRAUD_FACTS_PER_MESSAGE = 200;

/** The fraud events of a batch of clicks: one per click and kind (a verdict, each flag). */
export function fraudFactsOfClicks(events: readonly ClickEvent[]): FraudFact[] {
  const facts: FraudFact[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    const flags = e.flags ?? [];
    const kinds = FRAUD_VERDICTS.includes(e.verdict) ? [e.verdict, ...flags] : [...flags];
    for (const kind of kinds) {
      const key = `${e.click_id}\u0000${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      facts.push({
        tenant_id: e.tenant_id,
        kind,
        click_id: e.click_id,
        offer_id: e.offer_id,
        publisher_id: e.publisher_id,
        advertiser_id: e.advertiser_id,
        verdict: e.verdict,
        flags: [...flags],
        at: e.created_at,
      });
    }
  }
  return facts;
}

/** The stable event id's source: one event per click and kind, whatever message carries it. */
export const fraudEventKey = (f: Pick<FraudFact, "click_id" | "kind">) =>
  `fraud.detected:${f.click_id}:${f.kind}`;
