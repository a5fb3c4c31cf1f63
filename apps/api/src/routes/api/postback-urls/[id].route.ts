// /api/postback-urls/{id} — read, change and delete a publisher's postback URL.

import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { registerEndpointItem } from "../endpoint-routes";
import { POSTBACK_URL_ROUTES } from "./index.route";

export function registerPostbackUrl(app: Hono<AppEnv>): void {
  registerEndpointItem(app, POSTBACK_URL_ROUTES);
}
