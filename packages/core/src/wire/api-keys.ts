// Advertiser API keys of the management API: create (shown once), list, rotate with an overlap
// window and revoke, and what those endpoints answer (never the key's hash or signing secret).

import * as v from "valibot";
import { IdSchema, PageQueryEntries, TimestampSchema } from "./fields";

export const DEFAULT_KEY_OVERLAP_HOURS = 24;
export const MAX_KEY_OVERLAP_HOURS = 168;

export const API_KEY_STATUSES = ["active", "revoked", "expired"] as const;
const StatusSchema = v.picklist(API_KEY_STATUSES);

const AdvertiserIdSchema = v.optional(
  v.pipe(IdSchema, v.description("Required for a network admin; an advertiser user acts for their own")),
);

export const CreateApiKeyBody = v.strictObject({ advertiser_id: AdvertiserIdSchema });

export const RotateApiKeyBody = v.strictObject({
  overlap_hours: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      v.maxValue(MAX_KEY_OVERLAP_HOURS, "must be at most 168 (7 days)"),
      v.description("How long the old key keeps working (default 24)"),
    ),
  ),
});

export const ListApiKeysQuery = v.strictObject({
  ...PageQueryEntries,
  advertiser_id: v.optional(IdSchema),
  status: v.optional(StatusSchema),
  prefix: v.optional(v.pipe(v.string(), v.maxLength(10), v.description("Keys whose prefix starts so"))),
});
export type ListApiKeysInput = v.InferOutput<typeof ListApiKeysQuery>;

export const ApiKeySchema = v.object({
  id: IdSchema,
  advertiser_id: IdSchema,
  prefix: v.pipe(v.string(), v.description("The key's first 10 characters")),
  status: StatusSchema,
  expires_at: v.nullable(TimestampSchema),
  last_used_at: v.nullable(TimestampSchema),
  created_at: TimestampSchema,
});
export type ApiKey = v.InferOutput<typeof ApiKeySchema>;

export const IssuedApiKeySchema = v.object({
  ...ApiKeySchema.entries,
  key: v.pipe(v.string(), v.description("The API key; shown this once")),
  signing_secret: v.pipe(v.string(), v.description("Secret of v2 request signatures; shown this once")),
});

export const RotatedApiKeySchema = v.object({
  api_key: IssuedApiKeySchema,
  rotated: v.pipe(ApiKeySchema, v.description("The old key, now expiring after the overlap")),
});
