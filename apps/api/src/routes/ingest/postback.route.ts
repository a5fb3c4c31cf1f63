// POST /api/postback — the advertiser's server-to-server conversion. The advertiser's and the
// offer's IP allowlists apply; geo rules do not (the caller is a server, not the visitor).

import { PostbackBodySchema, successBody } from "@afftrack/core";
import type { Hono } from "hono";
import type { AppEnv } from "../../context";
import { apiKeyOf } from "../../middleware/api-key-auth";
import { jsonBodyOf } from "../../middleware/body-limit";
import { clientIpOf } from "../../middleware/ip-allowlist";
import { ingestDepsOf, parseOrThrow, recordConversion } from "../../services/ingest";
import { ingestGuards } from "./guards";

export type PostbackData = { conversion_id: string };

export function registerPostback(app: Hono<AppEnv>): void {
  app.post("/api/postback", ingestGuards({ serverToServer: true }), async (c) => {
    const input = parseOrThrow(PostbackBodySchema, jsonBodyOf(c));
    const r = await recordConversion(ingestDepsOf(c), {
      key: apiKeyOf(c),
      input,
      source: "postback",
      sdk: { version: null, platform: null },
      postbackIp: clientIpOf(c),
    });
    const data: PostbackData = { conversion_id: r.conversion_id };
    return c.json(successBody(data, "Postback received"));
  });
}
