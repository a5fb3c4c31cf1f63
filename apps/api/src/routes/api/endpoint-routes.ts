// The CRUD routes shared by the two kinds of outgoing endpoint: /api/webhooks (signed JSON events)
// and /api/postback-urls (a publisher's classic S2S URLs). Same storage, same owner rules, same
// destination guard; they differ in who may call, the wire shape and the words in the docs.

import {
  type ErrorCode,
  IdParamSchema,
  ListEndpointsQuery,
  pageOf,
  successBody,
  type UserRole,
} from "@afftrack/core";
import {
  type CreatedEndpoint,
  createEndpoint,
  deleteEndpointOrThrow,
  type EndpointKind,
  type EndpointRow,
  getEndpointOrThrow,
  listEndpoints,
  updateEndpointOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../../context";
import { callerOf, requireAuth } from "../../middleware/jwt-auth";
import { describe, validate } from "../../openapi/route";
import { assertDestinationAllowed, keyringOf } from "../../services/webhook-endpoints";

type CreateInput = Parameters<typeof createEndpoint>[3];
type UpdateInput = Parameters<typeof updateEndpointOrThrow>[4];

export interface EndpointRoutes {
  kind: EndpointKind;
  path: "/api/webhooks" | "/api/postback-urls";
  tag: string;
  /** Lower case, singular: "webhook endpoint". */
  noun: string;
  /** Empty: every role (each sees only the endpoints it owns). */
  roles: UserRole[];
  item: v.GenericSchema;
  created: v.GenericSchema;
  createBody: v.GenericSchema<unknown, CreateInput>;
  updateBody: v.GenericSchema<unknown, UpdateInput>;
  toWire: (row: EndpointRow) => object;
  describe: { create: string; list?: string; remove?: string };
}

function wording(spec: EndpointRoutes) {
  const forbidden: ErrorCode[] = spec.roles.length > 0 ? ["FORBIDDEN"] : [];
  return {
    Noun: spec.noun.charAt(0).toUpperCase() + spec.noun.slice(1),
    forbidden,
    doc: { tag: spec.tag, auth: "jwt" as const },
  };
}

/** POST (register) and GET (list) on the collection. */
export function registerEndpointCollection(app: Hono<AppEnv>, spec: EndpointRoutes): void {
  const { Noun, forbidden, doc } = wording(spec);

  app.post(
    spec.path,
    describe({
      ...doc,
      summary: `Register a ${spec.noun}`,
      description: spec.describe.create,
      status: 201,
      response: spec.created,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth(...spec.roles),
    validate("json", spec.createBody),
    async (c) => {
      const input = c.req.valid("json") as CreateInput;
      assertDestinationAllowed(c, input.url);
      const made: CreatedEndpoint = await createEndpoint(
        c.get("db")(),
        callerOf(c),
        spec.kind,
        input,
        await keyringOf(c),
      );
      return c.json(
        successBody(
          { ...spec.toWire(made.row), secret: made.secret },
          `${Noun} created; store the secret now`,
        ),
        201,
      );
    },
  );

  app.get(
    spec.path,
    describe({
      ...doc,
      summary: `List ${spec.noun}s`,
      ...(spec.describe.list ? { description: spec.describe.list } : {}),
      response: pageOf(spec.item),
      errors: ["UNAUTHORIZED", ...forbidden],
    }),
    requireAuth(...spec.roles),
    validate("query", ListEndpointsQuery),
    async (c) => {
      const page = await listEndpoints(c.get("db")(), callerOf(c), spec.kind, c.req.valid("query"));
      return c.json(successBody({ ...page, items: page.items.map(spec.toWire) }));
    },
  );
}

/** GET, PATCH and DELETE on one endpoint the caller owns. */
export function registerEndpointItem(app: Hono<AppEnv>, spec: EndpointRoutes): void {
  const { Noun, forbidden, doc } = wording(spec);
  const itemErrors: ErrorCode[] = ["UNAUTHORIZED", ...forbidden, "NOT_FOUND"];
  const one = `${spec.path}/:id`;
  app.get(
    one,
    describe({ ...doc, summary: `Get a ${spec.noun}`, response: spec.item, errors: itemErrors }),
    requireAuth(...spec.roles),
    validate("param", IdParamSchema),
    async (c) => {
      const row = await getEndpointOrThrow(c.get("db")(), callerOf(c), spec.kind, c.req.valid("param").id);
      return c.json(successBody(spec.toWire(row)));
    },
  );

  app.patch(
    one,
    describe({ ...doc, summary: `Update a ${spec.noun}`, response: spec.item, errors: itemErrors }),
    requireAuth(...spec.roles),
    validate("param", IdParamSchema),
    validate("json", spec.updateBody),
    async (c) => {
      const input = c.req.valid("json") as UpdateInput;
      assertDestinationAllowed(c, input.url);
      const row = await updateEndpointOrThrow(
        c.get("db")(),
        callerOf(c),
        spec.kind,
        c.req.valid("param").id,
        input,
      );
      return c.json(successBody(spec.toWire(row), `${Noun} updated`));
    },
  );

  app.delete(
    one,
    describe({
      ...doc,
      summary: `Delete a ${spec.noun}`,
      ...(spec.describe.remove ? { description: spec.describe.remove } : {}),
      response: spec.item,
      errors: itemErrors,
    }),
    requireAuth(...spec.roles),
    validate("param", IdParamSchema),
    async (c) => {
      const row = await deleteEndpointOrThrow(c.get("db")(), callerOf(c), spec.kind, c.req.valid("param").id);
      return c.json(successBody(spec.toWire(row), `${Noun} deleted`));
    },
  );
}
