// Publishing to the tenants' live channels (dashboards' live feed), after the writes commit. Best
// effort by design: the stats endpoints are the record; a lost live event costs a dashboard one
// animation, never a number, so a failure is logged and never retried or thrown.

import type { ClickEvent, LiveEvent } from "@afftrack/core";
import { COUNTED_VERDICTS } from "@afftrack/core";
import type { LiveChannel } from "../live-channel.do";
import type { Logger } from "./logger";

export type LiveNamespace = DurableObjectNamespace<LiveChannel>;

/** Set by the stream route on its request to the channel: the authenticated caller's scope. */
export const LIVE_SCOPE_HEADER = "x-afftrack-live-scope";

/** Sends each tenant's events to its channel, one call per tenant. */
export async function publishLive(
  ns: LiveNamespace | undefined,
  events: ReadonlyArray<{ tenant_id: string; event: LiveEvent }>,
  log: Logger,
): Promise<void> {
  if (!ns || events.length === 0) return;
  const byTenant = new Map<string, LiveEvent[]>();
  for (const { tenant_id, event } of events) {
    const list = byTenant.get(tenant_id) ?? [];
    list.push(event);
    byTenant.set(tenant_id, list);
  }
  await Promise.all(
    [...byTenant].map(async ([tenant, list]) => {
      try {
        await ns.get(ns.idFromName(tenant)).publish(list);
      } catch (err) {
        log.warn("live events not published", { tenant_id: tenant, events: list.length, error: String(err) });
      }
    }),
  );
}

/** A written click as the live feed shows it. */
export function liveClickOf(e: ClickEvent): { tenant_id: string; event: LiveEvent } {
  return {
    tenant_id: e.tenant_id,
    event: {
      type: "click",
      at: e.created_at,
      click_id: e.click_id,
      offer_id: e.offer_id,
      publisher_id: e.publisher_id,
      advertiser_id: e.advertiser_id,
      verdict: e.verdict,
      counted: COUNTED_VERDICTS.includes(e.verdict),
      country: e.country,
      device: e.device,
      sub1: e.sub1,
      flags: e.flags ?? [],
    },
  };
}
