// Migrations are listed in code (not read from disk) so they bundle into a worker or a script alike.
// Add new ones with a higher numeric prefix; never edit one that has shipped.

import type { Migration, MigrationProvider } from "kysely/migration";
import * as m001 from "./001-init";
import * as m002 from "./002-ingestion";
import * as m003 from "./003-management";
import * as m004 from "./004-attribution-rules";
import * as m005 from "./005-edge-rules";
import * as m006 from "./006-link-ttl";
import * as m007 from "./007-analytics";
import * as m008 from "./008-webhooks";
import * as m009 from "./009-tracker";
import * as m010 from "./010-fraud-rules";
import * as m011 from "./011-stats-daily";
import * as m012 from "./012-webhook-secret-encryption";
import * as m013 from "./013-stats-day";
import * as m014 from "./014-offer-applications";
import * as m015 from "./015-stats-total";

export const migrations: Record<string, Migration> = {
  "001-init": m001,
  "002-ingestion": m002,
  "003-management": m003,
  "004-attribution-rules": m004,
  "005-edge-rules": m005,
  "006-link-ttl": m006,
  "008-webhooks": m008,
  "007-analytics": m007,
  "009-tracker": m009,
  "010-fraud-rules": m010,
  "011-stats-daily": m011,
  "012-webhook-secret-encryption": m012,
  "013-stats-day": m013,
  "014-offer-applications": m014,
  "015-stats-total": m015,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
