// /api/network — the caller's network and its settings; a network admin changes its time zone
// (the default of /api/stats).

import { NetworkSettingsSchema, successBody, UpdateNetworkBody } from "@afftrack/core";
import { getNetworkSettings, updateNetworkTimezone } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";

export function registerNetwork(app: Hono<AppEnv>): void {
  app.get(
    "/api/network",
    describe({
      tag: "Accounts",
      summary: "The caller's network and its settings",
      auth: "jwt",
      response: NetworkSettingsSchema,
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    async (c) => {
      return c.json(successBody(await getNetworkSettings(c.get("db")(), callerOf(c).tenant_id)));
    },
  );

  app.patch(
    "/api/network",
    describe({
      tag: "Accounts",
      summary: "Change the network's settings (its time zone)",
      description: "Network admins only. `timezone` is an IANA name both the API and the database know.",
      auth: "jwt",
      response: NetworkSettingsSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
      requestExample: { timezone: "Australia/Adelaide" },
    }),
    requireAuth("network_admin"),
    validate("json", UpdateNetworkBody),
    async (c) => {
      const { timezone } = c.req.valid("json");
      const network = await updateNetworkTimezone(c.get("db")(), callerOf(c).tenant_id, timezone);
      return c.json(successBody(network, "Network updated"));
    },
  );
}
