// Webhook and postback signing secrets encrypted at rest (issue 10): `key_id` names the
// WEBHOOK_SECRETS_KEY entry that sealed `secret` (AES-256-GCM, see core/webhook-secrets.ts).
// Rows written before this migration keep key_id NULL: their secret is plaintext and is still
// read, until `sealPlaintextSecrets` (packages/db/src/webhooks.ts) seals them under the key; SQL
// cannot do that here, since the key lives only in the worker's secrets.

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webhook_secrets ADD COLUMN key_id text;
    -- Rows still in clear, found without a scan when sealing them.
    CREATE INDEX webhook_secrets_plaintext ON webhook_secrets (id) WHERE key_id IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS webhook_secrets_plaintext;
    ALTER TABLE webhook_secrets DROP COLUMN IF EXISTS key_id;
  `.execute(db);
}
