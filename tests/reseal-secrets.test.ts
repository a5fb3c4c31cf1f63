// `pnpm db:reseal-secrets`: after a key rotation (new key first in WEBHOOK_SECRETS_KEY) every
// secret sealed under the old key, or stored in clear before encryption, is sealed under the new
// key and still opens to the same secret, so the old key can be dropped; the output names no secret.

import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { generateSecretKeyEntry, openSecret, parseSecretKeyring } from "@afftrack/core";
import { createEndpoint } from "@afftrack/db";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../packages/devstack/src/build-workers";
import { createFixture, nodeDb } from "../packages/devstack/src/fixtures";
import { withTempDatabase } from "../packages/devstack/src/temp-database";

const run = (env: NodeJS.ProcessEnv) =>
  promisify(execFile)(
    path.join(repoRoot, "node_modules/.bin/tsx"),
    [path.join(repoRoot, "packages/devstack/src/cli/reseal-secrets.ts")],
    { env: { ...process.env, ...env } },
  );

describe("pnpm db:reseal-secrets", () => {
  // The job re-seals every row of its database: a database of its own, so no other test's
  // endpoints are touched.
  it("re-seals old-key and plaintext secrets under the new key; they open to the same secret", async () => {
    await withTempDatabase(async (url) => {
      const db = nodeDb(url);
      try {
        const f = await createFixture(db);
        const owner = {
          tenant_id: f.tenant_id,
          role: "advertiser" as const,
          advertiser_id: f.advertiser_id,
          publisher_id: null,
        };
        const oldEntry = generateSecretKeyEntry("old");
        const newEntry = generateSecretKeyEntry("new");
        const endpoint = (name: string, ring: Awaited<ReturnType<typeof parseSecretKeyring>> | null) =>
          createEndpoint(
            db,
            owner,
            "webhook",
            { url: `https://hooks.example.com/${name}`, events: ["conversion.created"] },
            ring,
          );
        const sealed = await endpoint("a", await parseSecretKeyring(oldEntry));
        const plain = await endpoint("b", null);
        const stored = (id: string) =>
          db
            .selectFrom("webhook_secrets")
            .select(["secret", "key_id"])
            .where("endpoint_id", "=", id)
            .executeTakeFirstOrThrow();
        expect((await stored(sealed.row.id)).key_id).toBe("old");
        expect((await stored(plain.row.id)).key_id).toBeNull();

        const { stdout } = await run({ DATABASE_URL: url, WEBHOOK_SECRETS_KEY: `${newEntry},${oldEntry}` });
        expect(JSON.parse(stdout)).toEqual({ resealed: 2, key_id: "new", left: 0 });
        expect(stdout).not.toContain(sealed.secret);
        expect(stdout).not.toContain(plain.secret);

        // Only the new key is needed from now on.
        const newRing = await parseSecretKeyring(newEntry);
        for (const made of [sealed, plain]) {
          const row = await stored(made.row.id);
          expect(row.key_id).toBe("new");
          expect(row.secret).not.toContain(made.secret.slice("whsec_".length));
          expect(await openSecret(newRing, made.row.id, row)).toBe(made.secret);
        }
      } finally {
        await db.destroy();
      }
    });
  });

  it("refuses to run without a usable key, naming what is wrong but not the key", async () => {
    const err = await run({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      WEBHOOK_SECRETS_KEY: "k1:c2hvcnQ=",
    }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('key "k1" is not 32 bytes');
    expect((err as { stderr: string }).stderr).not.toContain("c2hvcnQ");
  });
});
