// GET /api/links — tracking links with their public URLs: a publisher's own, those on an
// advertiser's offers, or (network admins) every link of the network.

import { ListLinksQuery, pageOf, successBody, TrackingLinkSchema } from "@afftrack/core";
import { listTrackingLinks } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { linkUrls } from "../../../services/signed-links";

export function registerLinks(app: Hono<AppEnv>): void {
  app.get(
    "/api/links",
    describe({
      tag: "Links",
      summary: "List tracking links",
      auth: "jwt",
      response: pageOf(TrackingLinkSchema),
      errors: ["UNAUTHORIZED"],
    }),
    requireAuth(),
    validate("query", ListLinksQuery),
    async (c) => {
      const page = await listTrackingLinks(c.get("db")(), callerOf(c), c.req.valid("query"));
      const items = page.items.map(({ created_at, ...link }) => ({
        ...link,
        ...linkUrls(c.get("config"), link),
        created_at,
      }));
      return c.json(successBody({ items, next_cursor: page.next_cursor }));
    },
  );
}
