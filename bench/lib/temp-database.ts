// A throwaway Postgres database for a benchmark run, created and migrated on the local server
// and dropped afterwards, so runs never see each other's rows.

import pg from "pg";
import { migrateDatabase } from "../../packages/devstack/src/migrate";

export async function withTempDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `afftrack_bench_${Date.now().toString(36)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await migrateDatabase(url.toString());
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
