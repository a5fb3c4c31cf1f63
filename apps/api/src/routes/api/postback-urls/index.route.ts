// /api/postback-urls — a publisher's classic S2S postback URLs (per publisher, optionally per
// offer): macros filled and URL-encoded, GET or POST, fired on chosen statuses, first conversion
// of a click or all. Same queue, retries, log and resend as webhooks. Network admins name the
// publisher. The secret (for the `{signature}` macro) is shown once.

import {
  CreatedPostbackUrlSchema,
  CreatePostbackUrlBody,
  PostbackUrlSchema,
  UpdatePostbackUrlBody,
} from "@afftrack/core";
import { toPostbackUrl } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { type EndpointRoutes, registerEndpointCollection } from "../endpoint-routes";

export const POSTBACK_URL_ROUTES: EndpointRoutes = {
  kind: "postback",
  path: "/api/postback-urls",
  tag: "Postback URLs",
  noun: "postback URL",
  roles: ["network_admin", "publisher"],
  item: PostbackUrlSchema,
  created: CreatedPostbackUrlSchema,
  createBody: CreatePostbackUrlBody,
  updateBody: UpdatePostbackUrlBody,
  toWire: toPostbackUrl,
  describe: {
    create:
      "Macros: {click_id} {transaction_id} {conversion_id} {sub1}–{sub5} {payout} {currency} {status} " +
      "{offer_id} {event_name} {timestamp} {signature}; `{signature}` is the hex HMAC-SHA256, keyed by " +
      "`secret`, of `{conversion_id}.{transaction_id}.{status}.{payout}.{currency}.{timestamp}`.",
  },
};

export function registerPostbackUrls(app: Hono<AppEnv>): void {
  registerEndpointCollection(app, POSTBACK_URL_ROUTES);
}
