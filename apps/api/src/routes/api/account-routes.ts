// GET/PATCH/DELETE on one advertiser or one publisher account: the two kinds of account a network
// admin manages share the same rules. Read: network admins, or a user of that account itself (any
// other account is 404, as if it did not exist). Update and delete: network admins. Suspending or
// reinstating rewrites the edge's link records at once, so the account's links stop (or resume)
// counting.

import { type ErrorCode, IdParamSchema, successBody } from "@afftrack/core";
import type { Database } from "@afftrack/db";
import type { Hono } from "hono";
import type { Kysely } from "kysely";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { callerOf, requireAuth } from "../../middleware/jwt-auth";
import { describe, validate } from "../../openapi/route";
import { syncLinkRecords } from "../../services/edge-sync";

type Db = Kysely<Database>;

export interface AccountRoutes<Account extends { id: string }, Update extends { status?: unknown }> {
  role: "advertiser" | "publisher";
  path: "/api/advertisers" | "/api/publishers";
  tag: string;
  /** With its article: "an advertiser". */
  noun: string;
  schema: v.GenericSchema;
  updateBody: v.GenericSchema<unknown, Update>;
  get: (db: Db, tenantId: string, id: string) => Promise<Account>;
  update: (db: Db, tenantId: string, id: string, input: Update) => Promise<Account>;
  remove: (db: Db, tenantId: string, id: string) => Promise<unknown>;
  notFound: () => Error;
  trackingCodes: (db: Db, accountId: string) => Promise<string[]>;
  describe: { update: string; remove: string };
  updateErrors: ErrorCode[];
}

export function registerAccountItem<Account extends { id: string }, Update extends { status?: unknown }>(
  app: Hono<AppEnv>,
  spec: AccountRoutes<Account, Update>,
): void {
  const one = `${spec.path}/:id`;
  const Noun = spec.noun.replace(/^an? /, "").replace(/^./, (ch) => ch.toUpperCase());
  const doc = { tag: spec.tag, auth: "jwt" as const };

  app.get(
    one,
    describe({
      ...doc,
      summary: `Get ${spec.noun}`,
      response: spec.schema,
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
    }),
    requireAuth("network_admin", spec.role),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const { id } = c.req.valid("param");
      const own = spec.role === "advertiser" ? caller.advertiser_id : caller.publisher_id;
      if (caller.role === spec.role && own !== id) throw spec.notFound();
      return c.json(successBody(await spec.get(c.get("db")(), caller.tenant_id, id)));
    },
  );

  app.patch(
    one,
    describe({
      ...doc,
      summary: `Update ${spec.noun}`,
      description: spec.describe.update,
      response: spec.schema,
      errors: spec.updateErrors,
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    validate("json", spec.updateBody),
    async (c) => {
      const caller = callerOf(c);
      const body = c.req.valid("json") as Update;
      const db = c.get("db")();
      const account = await spec.update(db, caller.tenant_id, c.req.valid("param").id, body);
      if (body.status !== undefined) {
        await syncLinkRecords(db, c.get("redis"), await spec.trackingCodes(db, account.id), c.get("log"));
      }
      return c.json(successBody(account, `${Noun} updated`));
    },
  );

  app.delete(
    one,
    describe({
      ...doc,
      summary: `Delete ${spec.noun}`,
      description: spec.describe.remove,
      response: v.object({ id: v.string(), deleted: v.literal(true) }),
      errors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
    }),
    requireAuth("network_admin"),
    validate("param", IdParamSchema),
    async (c) => {
      const caller = callerOf(c);
      const { id } = c.req.valid("param");
      await spec.remove(c.get("db")(), caller.tenant_id, id);
      return c.json(successBody({ id, deleted: true as const }, `${Noun} deleted`));
    },
  );
}
