// `pnpm db:migrate`: applies the kysely migrations to DATABASE_URL.

import { migrateDatabase } from "../migrate";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    "Set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm db:migrate",
  );
  process.exit(1);
}
const applied = await migrateDatabase(url);
console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
