// Migrations are listed in code (not read from disk) so they bundle into a worker or a script alike.
// Add new ones with a higher numeric prefix; never edit one that has shipped.

import type { Migration, MigrationProvider } from "kysely/migration";
import * as m001 from "./001-init";

export const migrations: Record<string, Migration> = {
  "001-init": m001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
