// What the webhook and postback-URL management routes share: the SSRF check of a URL at
// registration, and the delivery engine's dependencies for a request.

import { ApiError, checkDestination, type SecretKeyring } from "@afftrack/core";
import type { AppContext } from "../context";
import { type DeliveryDeps, secretKeyring } from "./webhook-delivery";

/** Refuses a destination the SSRF guard would refuse at delivery (400, naming `url`). */
export function assertDestinationAllowed(c: AppContext, url: string | undefined): void {
  if (url === undefined) return;
  const check = checkDestination(url, { allowLoopback: c.get("config").webhookAllowLoopback });
  if (!check.ok) throw new ApiError("INVALID_PARAMS", `Invalid parameter "url": ${check.message}`);
}

export function deliveryDepsOf(c: AppContext): DeliveryDeps {
  if (!c.env.WEBHOOKS) throw new ApiError("SERVICE_UNAVAILABLE", "Webhook delivery is not configured");
  return { services: c.get("services"), queue: c.env.WEBHOOKS };
}

/** The deployment's keyring sealing webhook and postback secrets at rest. */
export function keyringOf(c: AppContext): Promise<SecretKeyring> {
  return secretKeyring(c.get("services"));
}
