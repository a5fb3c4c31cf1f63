// /api/postback-urls/{id} — read, change and delete a publisher's postback URL.

import { IdParamSchema, PostbackUrlSchema, successBody, UpdatePostbackUrlBody } from "@afftrack/core";
import {
  deleteEndpointOrThrow,
  getEndpointOrThrow,
  toPostbackUrl,
  updateEndpointOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { callerOf, requireAuth } from "../../../middleware/jwt-auth";
import { describe, validate } from "../../../openapi/route";
import { assertDestinationAllowed } from "../../../services/webhook-endpoints";

export function registerPostbackUrl(app: Hono<AppEnv>): void {
  app.get(
    "/api/postback-urls/:id",
    describe({
      tag: "Postback URLs",
      summary: "Get a postback URL",
      auth: "jwt",
      response: PostbackUrlSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "publisher"),
    validate("param", IdParamSchema),
    async (c) => {
      const row = await getEndpointOrThrow(c.get("db")(), callerOf(c), "postback", c.req.valid("param").id);
      return c.json(successBody(toPostbackUrl(row)));
    },
  );

  app.patch(
    "/api/postback-urls/:id",
    describe({
      tag: "Postback URLs",
      summary: "Update a postback URL",
      auth: "jwt",
      response: PostbackUrlSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "publisher"),
    validate("param", IdParamSchema),
    validate("json", UpdatePostbackUrlBody),
    async (c) => {
      const input = c.req.valid("json");
      assertDestinationAllowed(c, input.url);
      const row = await updateEndpointOrThrow(
        c.get("db")(),
        callerOf(c),
        "postback",
        c.req.valid("param").id,
        input,
      );
      return c.json(successBody(toPostbackUrl(row), "Postback URL updated"));
    },
  );

  app.delete(
    "/api/postback-urls/:id",
    describe({
      tag: "Postback URLs",
      summary: "Delete a postback URL",
      auth: "jwt",
      response: PostbackUrlSchema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", "publisher"),
    validate("param", IdParamSchema),
    async (c) => {
      const row = await deleteEndpointOrThrow(
        c.get("db")(),
        callerOf(c),
        "postback",
        c.req.valid("param").id,
      );
      return c.json(successBody(toPostbackUrl(row), "Postback URL deleted"));
    },
  );
}
