// An advertiser's link-signing secrets: list (never the secret itself) and rotate. Rotation keeps
// the old secret valid for the longest link TTL, so links already handed out keep verifying.

import { successBody } from "@afftrack/core";
import { rotateSecret, SECRET_PROPAGATION_SECONDS } from "@afftrack/db";
import type { Hono } from "hono";
import { sql } from "kysely";
import * as v from "valibot";
import type { AppEnv } from "../../context";
import { callerOf, requireAuth } from "../../middleware/jwt-auth";
import { syncLinkRecords } from "../../services/edge-sync";
import { advertiserScope, idSchema, iso, readBody, readQuery } from "./common";

const RotateBody = v.strictObject({ advertiser_id: v.optional(idSchema) });
const ListQuery = v.strictObject({ advertiser_id: v.optional(idSchema) });

export function registerLinkSecretRoutes(app: Hono<AppEnv>): void {
  app.get("/api/link-secrets", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const q = readQuery(c, ListQuery);
    const db = c.get("db")();
    const advertiser_id = await advertiserScope(db, caller, q.advertiser_id);
    const rows = await db
      .selectFrom("link_secrets")
      .select(["id", "created_at", "expires_at"])
      .where("tenant_id", "=", caller.tenant_id)
      .where("advertiser_id", "=", advertiser_id)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return c.json(
      successBody({
        items: rows.map((r) => ({
          id: r.id,
          status: r.expires_at === null ? "current" : "retiring",
          created_at: iso(r.created_at),
          expires_at: iso(r.expires_at),
        })),
        next_cursor: null,
      }),
    );
  });

  app.post("/api/link-secrets/rotate", requireAuth(), async (c) => {
    const caller = callerOf(c);
    const body = await readBody(c, RotateBody);
    const db = c.get("db")();
    const advertiser_id = await advertiserScope(db, caller, body.advertiser_id);
    const { current, retiredUntil } = await rotateSecret(db, { tenant_id: caller.tenant_id, advertiser_id });
    const codes = await db
      .selectFrom("tracking_links as l")
      .innerJoin("offers as o", "o.id", "l.offer_id")
      .select("l.tracking_code")
      .where("o.advertiser_id", "=", advertiser_id)
      .execute();
    await syncLinkRecords(
      db,
      c.get("redis"),
      codes.map((r) => r.tracking_code),
    );
    return c.json(
      successBody(
        {
          id: current.id,
          // Shown once, for advertisers who sign links themselves (seed recipes).
          secret: current.secret,
          created_at: iso(current.created_at),
          // Edges learn the new secret within the propagation window; sign with it from then on.
          signing_from: iso(new Date(current.created_at.getTime() + SECRET_PROPAGATION_SECONDS * 1000)),
          previous_valid_until: iso(retiredUntil),
        },
        "Link-signing secret rotated",
      ),
      201,
    );
  });
}
