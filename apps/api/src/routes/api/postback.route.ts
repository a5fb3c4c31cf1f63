// POST /api/postback — the advertiser's server-to-server conversion. The advertiser's and the
// offer's IP allowlists apply; geo rules do not (the caller is a server, not the visitor).

import {
  PostbackBodySchema,
  type PostbackData,
  PostbackDataSchema,
  SEED_POSTBACK_REQUEST,
  seedAnswer,
  successBody,
} from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { apiKeyOf } from "../../middleware/api-key-auth";
import { INGEST_GUARD_ERRORS, ingestGuards } from "../../middleware/ingest-guards";
import { describe, validate } from "../../openapi/route";
import { fanOutConversion } from "../../services/fanout";
import { ingestDepsOf, recordConversion, requestOriginOf } from "../../services/ingest";

export function registerPostback(app: Hono<AppEnv>): void {
  app.post(
    "/api/postback",
    describe({
      tag: "Ingestion",
      summary: "Server-to-server postback",
      description:
        "The advertiser's server reports a conversion; the fields are the SDK conversion's. It must " +
        "come from inside the advertiser's and the credited offer's postback IP allowlists.",
      auth: "api_key",
      response: PostbackDataSchema,
      errors: [...INGEST_GUARD_ERRORS, "IP_NOT_ALLOWED", "INVALID_OFFER", "DUPLICATE_TRANSACTION"],
      requestExample: SEED_POSTBACK_REQUEST,
      example: seedAnswer("Postback received", { conversion_id: "conv_abc123" }),
    }),
    ingestGuards({ serverToServer: true }),
    validate("json", PostbackBodySchema),
    async (c) => {
      const r = await recordConversion(ingestDepsOf(c), {
        key: apiKeyOf(c),
        input: c.req.valid("json"),
        source: "postback",
        sdk: { version: null, platform: null },
        postbackIp: requestOriginOf(c).ip,
      });
      fanOutConversion(c, { type: "conversion.created", conversion_id: r.conversion_id, status: r.status });
      const data: PostbackData = { conversion_id: r.conversion_id };
      return c.json(successBody(data, "Postback received"));
    },
  );
}
