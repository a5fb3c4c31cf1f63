// Publishers (affiliates and influencers) of the management API: what a network admin sends to
// create, update and list them, and what every publisher endpoint answers.

import * as v from "valibot";
import { IdSchema, NameSchema, PageQueryEntries, SearchSchema, TimestampSchema } from "./fields";

export const PUBLISHER_STATUSES = ["active", "suspended"] as const;
const StatusSchema = v.picklist(PUBLISHER_STATUSES);
const InfluencerIdSchema = v.nullable(
  v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1),
    v.maxLength(128),
    v.description("The influencer tracker's id of this publisher, unique in the network"),
  ),
);

const fields = {
  name: NameSchema,
  influencer_id: v.optional(InfluencerIdSchema),
  status: v.optional(StatusSchema),
};

export const CreatePublisherBody = v.strictObject(fields);
export type CreatePublisherInput = v.InferOutput<typeof CreatePublisherBody>;

export const UpdatePublisherBody = v.pipe(
  v.strictObject({ ...fields, name: v.optional(NameSchema) }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
export type UpdatePublisherInput = v.InferOutput<typeof UpdatePublisherBody>;

export const ListPublishersQuery = v.strictObject({
  ...PageQueryEntries,
  status: v.optional(StatusSchema),
  q: SearchSchema,
});
export type ListPublishersInput = v.InferOutput<typeof ListPublishersQuery>;

export const PublisherSchema = v.object({
  id: IdSchema,
  name: v.string(),
  influencer_id: v.nullable(v.string()),
  status: StatusSchema,
  created_at: TimestampSchema,
});
export type Publisher = v.InferOutput<typeof PublisherSchema>;
