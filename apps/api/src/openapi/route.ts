// One declaration per endpoint: `describe()` documents it (OpenAPI operation, security, success and
// error responses in the seed's envelope) and `validate()` checks its params, query or body with the
// same valibot schema that types `c.req.valid(...)` and appears in /openapi.json.

import {
  ApiError,
  describeIssues,
  ERROR_STATUS,
  type ErrorCode,
  hasUnstorableText,
  successEnvelope,
} from "@afftrack/core";
import type { Env, ValidationTargets } from "hono";
import { type DescribeRouteOptions, describeRoute, resolver, validator } from "hono-openapi";
import type * as v from "valibot";

export type Auth = "jwt" | "api_key" | "none";

export interface RouteDoc {
  /** OpenAPI tag: the resource or area ("Offers", "Ingestion", ...). */
  tag: string;
  summary: string;
  description?: string;
  /** Who may call it: a bearer JWT (management), an API key with a request signature (ingestion), anyone. */
  auth: Auth;
  /** The `data` of the success envelope. */
  response: v.GenericSchema;
  /** Success status (default 200); 101: a WebSocket upgrade (no body). */
  status?: 200 | 201 | 101;
  /** What the success answer means, for the reader of the docs. */
  responseDescription?: string;
  /** An example of the success envelope (the seed's, where it has one). */
  example?: unknown;
  /** An example request body. */
  requestExample?: unknown;
  /** A non-JSON success body (a streamed CSV export); errors stay in the JSON envelope. */
  contentType?: "text/csv";
  /** Error codes this endpoint answers with besides INVALID_PARAMS, INTERNAL_ERROR and SERVICE_UNAVAILABLE. */
  errors: ErrorCode[];
}

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  jwt: [{ bearerAuth: [] }],
  api_key: [{ apiKey: [], requestSignature: [] }],
  none: [],
};

const ALWAYS: ErrorCode[] = ["INVALID_PARAMS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"];

type Responses = NonNullable<DescribeRouteOptions["responses"]>;

function errorResponses(codes: readonly ErrorCode[]): Responses {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...ALWAYS])) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Responses = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const code = list[0] as ErrorCode;
    out[String(status)] = {
      description: `Error in the seed's envelope; \`code\` is one of ${list.map((c) => `\`${c}\``).join(", ")}`,
      content: {
        "application/json": {
          schema: { $ref: "#/components/schemas/ErrorBody" },
          example: { success: false, error: "What went wrong", code, request_id: "req_3kTzYq9fWb2XcV7nM1aP" },
        },
      },
    };
  }
  return out;
}

/**
 * @example
 * app.get("/api/offers/:id", describe({ tag: "Offers", summary: "Get an offer", auth: "jwt",
 *   response: OfferSchema, errors: ["UNAUTHORIZED", "NOT_FOUND"] }), requireAuth(),
 *   validate("param", IdParamSchema), handler);
 */
export function describe(doc: RouteDoc) {
  const status = String(doc.status ?? 200);
  return describeRoute({
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    security: SECURITY[doc.auth],
    responses: {
      [status]: {
        description: doc.responseDescription ?? "Success",
        content:
          doc.status === 101
            ? undefined
            : doc.contentType === "text/csv"
              ? { "text/csv": { schema: { type: "string" } } }
              : {
                  "application/json": {
                    schema: resolver(successEnvelope(doc.response)),
                    ...(doc.example === undefined ? {} : { example: doc.example }),
                  },
                },
      },
      ...errorResponses(doc.errors),
    },
  });
}

/**
 * Validates one part of the request with a valibot schema. Any failure is 400 INVALID_PARAMS in
 * the seed's envelope naming the first bad field; text Postgres cannot store (NUL, lone
 * surrogates) is refused in every part, path and query included.
 */
export function validate<
  S extends v.GenericSchema,
  T extends keyof ValidationTargets,
  E extends Env,
  P extends string,
>(target: T, schema: S) {
  return validator<S, T, E, P>(target, schema, (result, c) => {
    // valibot takes an array for an object (`[]` passes an all-optional strictObject): a body
    // that is not a JSON object is refused here, with the body reader's reason.
    const body =
      target === "json"
        ? (c as unknown as { get(k: "jsonBody"): { ok: boolean; error?: string } | undefined }).get(
            "jsonBody",
          )
        : undefined;
    if (body && !body.ok) throw new ApiError("INVALID_PARAMS", body.error ?? "Body must be a JSON object");
    if (!result.success) {
      const prefix = target === "query" ? "query" : target === "param" ? "path" : "";
      const issues = result.error as unknown as v.BaseIssue<unknown>[];
      const message = describeIssues(issues);
      throw new ApiError(
        "INVALID_PARAMS",
        prefix && !message.includes('"') ? `${message} (${prefix})` : message,
      );
    }
    if (hasUnstorableText(result.data)) {
      throw new ApiError("INVALID_PARAMS", "Request contains NUL or unpaired surrogate characters");
    }
  });
}
