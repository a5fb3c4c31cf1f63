// An advertiser's link-signing secrets: listed without the secret itself, and rotated (the new
// secret shown once, for advertisers who sign links themselves).

import * as v from "valibot";
import { IdSchema, TimestampSchema } from "./fields";

const advertiserId = v.optional(
  v.pipe(IdSchema, v.description("Required for a network admin; an advertiser user acts on their own")),
);

export const ListLinkSecretsQuery = v.strictObject({ advertiser_id: advertiserId });
export type ListLinkSecretsInput = v.InferOutput<typeof ListLinkSecretsQuery>;

export const RotateLinkSecretBody = v.strictObject({
  advertiser_id: advertiserId,
  retire_previous: v.optional(
    v.pipe(
      v.picklist(["after_ttl", "now"]),
      v.description(
        "`after_ttl` (default): earlier secrets keep verifying for the longest link TTL, so links handed out keep counting. `now`: for a leaked secret, they stop at once (links signed with them stop counting)",
      ),
    ),
    "after_ttl",
  ),
});
export type RotateLinkSecretInput = v.InferOutput<typeof RotateLinkSecretBody>;

export const LinkSecretSchema = v.object({
  id: IdSchema,
  status: v.pipe(
    v.picklist(["current", "retiring"]),
    v.description("`retiring`: still verifies links until `expires_at`"),
  ),
  created_at: TimestampSchema,
  expires_at: v.nullable(TimestampSchema),
});
export type LinkSecret = v.InferOutput<typeof LinkSecretSchema>;

export const RotatedLinkSecretSchema = v.object({
  id: IdSchema,
  secret: v.pipe(v.string(), v.description("Shown once")),
  created_at: TimestampSchema,
  signing_from: v.pipe(
    TimestampSchema,
    v.description("New links are signed with this secret from then on, once every edge knows it"),
  ),
  previous_valid_until: v.pipe(
    TimestampSchema,
    v.description("The retired secret verifies links until then"),
  ),
});
export type RotatedLinkSecret = v.InferOutput<typeof RotatedLinkSecretSchema>;
