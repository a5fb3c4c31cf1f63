// /api/postback-urls — a publisher's classic S2S postback URLs (per publisher, optionally per
// offer): macros filled and URL-encoded, GET or POST, fired on chosen statuses, first conversion
// of a click or all. Same queue, retries, log and resend as webhooks. Network admins name the
// publisher. The secret (for the `{signature}` macro) is shown once.

import {
  CreatedPostbackUrlSchema,
  CreatePostbackUrlBody,
  ListEndpointsQuery,
  PostbackUrlSchema,
  pageOf,
  successBody,
} from "@afftrack/core";
import { createEndpoint, listEndpoints, toPostbackUrl } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { assertDestinationAllowed, keyringOf } from "../../../services/webhook-endpoints";

export function registerPostbackUrls(app: Hono<AppEnv>): void {
  app.post(
    "/api/postback-urls",
    describe({
      tag: "Postback URLs",
      summary: "Register a postback URL",
      description:
        "Macros: {click_id} {transaction_id} {conversion_id} {sub1}–{sub5} {payout} {currency} {status} " +
        "{offer_id} {event_name} {timestamp} {signature}; `{signature}` is the hex HMAC-SHA256, keyed by " +
        "`secret`, of `{conversion_id}.{transaction_id}.{status}.{payout}.{currency}.{timestamp}`.",
      auth: "jwt",
      status: 201,
      response: CreatedPostbackUrlSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "publisher"),
    validate("json", CreatePostbackUrlBody),
    async (c) => {
      const input = c.req.valid("json");
      assertDestinationAllowed(c, input.url);
      const { row, secret } = await createEndpoint(
        c.get("db")(),
        callerOf(c),
        "postback",
        input,
        await keyringOf(c),
      );
      return c.json(
        successBody({ ...toPostbackUrl(row), secret }, "Postback URL created; store the secret now"),
        201,
      );
    },
  );

  app.get(
    "/api/postback-urls",
    describe({
      tag: "Postback URLs",
      summary: "List postback URLs",
      auth: "jwt",
      response: pageOf(PostbackUrlSchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin", "publisher"),
    validate("query", ListEndpointsQuery),
    async (c) => {
      const page = await listEndpoints(c.get("db")(), callerOf(c), "postback", c.req.valid("query"));
      return c.json(successBody({ ...page, items: page.items.map(toPostbackUrl) }));
    },
  );
}
