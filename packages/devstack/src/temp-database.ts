// A throwaway Postgres database on the local server, created and migrated for one run (a benchmark,
// a test that must see every row of its database) and dropped afterwards.

import pg from "pg";
import { migrateDatabase } from "./migrate";

export async function withTempDatabase<T>(
  fn: (url: string) => Promise<T>,
  prefix = "afftrack_tmp",
): Promise<T> {
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `${prefix}_${Date.now().toString(36)}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
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
