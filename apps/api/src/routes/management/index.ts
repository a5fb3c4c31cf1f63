// The management API behind the dashboard and the SDKs: accounts, advertisers, publishers, users,
// offers, tracking links, API keys and link-signing secrets, each scoped by the caller's network.

import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { registerApiKeyRoutes } from "./api-keys.route";
import { registerAuthRoutes } from "./auth.route";
import { registerLinkSecretRoutes } from "./link-secrets.route";
import { registerLinkRoutes } from "./links.route";
import { registerOfferRoutes } from "./offers.route";
import { registerPublisherRoutes } from "./publishers.route";
import { registerUserRoutes } from "./users.route";

export function registerManagementRoutes(app: Hono<AppEnv>): void {
  registerAuthRoutes(app);
  registerPublisherRoutes(app);
  registerUserRoutes(app);
  registerOfferRoutes(app);
  registerLinkRoutes(app);
  registerApiKeyRoutes(app);
  registerLinkSecretRoutes(app);
}
