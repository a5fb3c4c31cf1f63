// The OpenAPI 3.1 document of the API worker, generated from the routes' own declarations
// (describe/validate). Served at /openapi.json, committed as apps/api/openapi.json.

import { ErrorBodySchema } from "@afftrack/core";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { Hono } from "hono";
import { type GenerateSpecOptions, generateSpecs } from "hono-openapi";
import type { AppEnv } from "../context";

export const OPENAPI_OPTIONS: Partial<GenerateSpecOptions> = {
  documentation: {
    openapi: "3.1.0",
    info: {
      title: "afftrack API",
      version: "1.0.0",
      description: [
        "Ingestion (SDK clicks and conversions, S2S postbacks, batches) and the management API of",
        "the afftrack platform. Every answer uses the envelope `{success, message?, data}`; every",
        "error `{success: false, error, code, request_id}` with the codes listed per operation.",
        "Every response carries `x-request-id`.",
      ].join(" "),
    },
    servers: [{ url: "http://127.0.0.1:8788", description: "pnpm dev" }],
    tags: [
      { name: "Ingestion", description: "Server-to-server and SDK events, signed with an API key" },
      { name: "Auth", description: "Accounts, sessions and invitations" },
      { name: "Advertisers" },
      { name: "Publishers" },
      { name: "Users" },
      { name: "Offers" },
      { name: "Links", description: "Tracking links and their signing" },
      { name: "API keys" },
      { name: "Link secrets" },
    ],
    components: {
      schemas: {
        // biome-ignore lint/suspicious/noExplicitAny: JSON Schema draft-07 output is valid OpenAPI 3.1 schema
        ErrorBody: (({ $schema: _, ...schema }) => schema)(toJsonSchema(ErrorBodySchema)) as any,
      },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "Access token from /api/auth/login or /api/auth/refresh (15 minutes)",
        },
        apiKey: {
          type: "apiKey",
          in: "header",
          name: "X-API-Key",
          description: "The advertiser's API key (the body's `api_key` is accepted too, as in the seed)",
        },
        requestSignature: {
          type: "apiKey",
          in: "header",
          name: "X-Signature",
          description: [
            "Seed signature: body fields `timestamp` (Unix ms), `nonce` and `signature` =",
            "hex HMAC-SHA256(api_key, `{api_key}|{advertiser_id}|{timestamp}|{nonce}`); or the",
            "stronger v2 scheme in this header: `v2=` hex HMAC-SHA256(signing_secret, canonical",
            "request covering method, path, timestamp, nonce and the body's SHA-256) with",
            "`X-Signature-Timestamp` and `X-Signature-Nonce`. See docs/ingestion-api.md.",
          ].join(" "),
        },
      },
    },
  },
  exclude: ["/openapi.json", "/docs", "/healthz"],
  // Routes like /api/exports/clicks.csv are endpoints, not static files.
  excludeStaticFile: false,
  defaultValidationErrorResponse: false,
};

/** The document for an app, as /openapi.json serves it. */
export function openApiDocument(app: Hono<AppEnv>) {
  return generateSpecs(app, OPENAPI_OPTIONS);
}
