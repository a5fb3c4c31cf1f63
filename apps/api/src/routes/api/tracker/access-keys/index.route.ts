// /api/tracker/access-keys — a tracker customer's access keys: create one (shown once, with the
// URL to post events to) and list them. Network admins only.

import {
  CreateTrackerAccessKeyBody,
  IssuedTrackerAccessKeySchema,
  ListTrackerQuery,
  pageOf,
  successBody,
  TrackerAccessKeySchema,
} from "@afftrack/core";
import { createTrackerAccessKey, listTrackerAccessKeys } from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../../context";
import { callerOf, requireAuth } from "../../../../middleware/jwt-auth";
import { describe, validate } from "../../../../openapi/route";

export function registerTrackerAccessKeys(app: Hono<AppEnv>): void {
  app.post(
    "/api/tracker/access-keys",
    describe({
      tag: "Influencer tracker",
      summary: "Create a tracker access key",
      description:
        "The key is in this answer only (stored hashed); `tracker_url` is where events are posted.",
      auth: "jwt",
      status: 201,
      response: IssuedTrackerAccessKeySchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin"),
    validate("json", CreateTrackerAccessKeyBody),
    async (c) => {
      const caller = callerOf(c);
      const issued = await createTrackerAccessKey(
        c.get("db")(),
        caller.tenant_id,
        c.req.valid("json").customer_id,
      );
      const origin = new URL(c.req.url).origin;
      return c.json(
        successBody(
          { ...issued.record, key: issued.key, tracker_url: `${origin}/t/${issued.key}` },
          "Access key created; store it now, it is not shown again",
        ),
        201,
      );
    },
  );

  app.get(
    "/api/tracker/access-keys",
    describe({
      tag: "Influencer tracker",
      summary: "List tracker access keys",
      auth: "jwt",
      response: pageOf(TrackerAccessKeySchema),
      errors: ["UNAUTHORIZED", "FORBIDDEN"],
    }),
    requireAuth("network_admin"),
    validate("query", ListTrackerQuery),
    async (c) => {
      const caller = callerOf(c);
      return c.json(
        successBody(await listTrackerAccessKeys(c.get("db")(), caller.tenant_id, c.req.valid("query"))),
      );
    },
  );
}
