// Once per test run: a fresh database (never trusting data from an earlier run), migrated, and
// the shared stacks every end-to-end test file talks to over HTTP — the default one and one per
// variant setting — so a run starts each stack once instead of once per file. Dropped at the end.

import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrateDatabase } from "../packages/devstack/src/migrate";
import { type Stack, type StackOptions, startStack } from "../packages/devstack/src/stack";
import { type SharedStackInfo, STACK_VARIANTS, type StackVariant } from "./stack-variants";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    stacks: Record<StackVariant, SharedStackInfo>;
  }
}

function infoOf(stack: Stack): SharedStackInfo {
  return {
    edgeUrl: stack.edgeUrl,
    apiUrl: stack.apiUrl,
    databaseUrl: stack.databaseUrl,
    redisRestUrl: stack.redisRestUrl,
    redisRestToken: stack.redisRestToken,
    jwtSecret: stack.jwtSecret,
    ipHashSecret: stack.ipHashSecret,
  };
}

export default async function setup(project: TestProject) {
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
  const name = `afftrack_test_${Date.now().toString(36)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  await migrateDatabase(databaseUrl);

  const started: Stack[] = [];
  const stacks = {} as Record<StackVariant, SharedStackInfo>;
  try {
    // TEST_STACKS=default,redisDown starts only those (a quick run of a few files); default: all.
    const only = process.env.TEST_STACKS?.split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    for (const [variant, opts] of Object.entries(STACK_VARIANTS) as [StackVariant, StackOptions][]) {
      if (only && !only.includes(variant)) continue;
      const stack = await startStack({ databaseUrl, redisUrl, migrate: false, ...opts });
      started.push(stack);
      stacks[variant] = infoOf(stack);
    }
  } catch (err) {
    for (const stack of started) await stack.close();
    throw err;
  }
  project.provide("databaseUrl", databaseUrl);
  project.provide("redisUrl", redisUrl);
  project.provide("stacks", stacks);
  return async () => {
    for (const stack of started) await stack.close().catch(() => undefined);
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  };
}
