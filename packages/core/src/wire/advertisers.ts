// Advertisers of the management API: what a network admin sends to create, update and list
// them, and what every advertiser endpoint answers.

import * as v from "valibot";
import {
  IdSchema,
  IpListSchema,
  NameSchema,
  PageQueryEntries,
  SearchSchema,
  TimestampSchema,
} from "./fields";

export const ADVERTISER_STATUSES = ["active", "suspended"] as const;
const StatusSchema = v.picklist(ADVERTISER_STATUSES);

const fields = {
  name: NameSchema,
  status: v.optional(StatusSchema),
  require_strong_signature: v.optional(
    v.pipe(v.boolean(), v.description("Accept only v2 request signatures on this advertiser's keys")),
  ),
  postback_ip_allowlist: v.optional(
    v.pipe(IpListSchema, v.description("Postbacks must come from these IPs or ranges (empty: any)")),
  ),
};

export const CreateAdvertiserBody = v.strictObject(fields);
export type CreateAdvertiserInput = v.InferOutput<typeof CreateAdvertiserBody>;

export const UpdateAdvertiserBody = v.pipe(
  v.strictObject({ ...fields, name: v.optional(NameSchema) }),
  v.check((b) => Object.keys(b).length > 0, "nothing to update"),
);
export type UpdateAdvertiserInput = v.InferOutput<typeof UpdateAdvertiserBody>;

export const ListAdvertisersQuery = v.strictObject({
  ...PageQueryEntries,
  status: v.optional(StatusSchema),
  q: SearchSchema,
});
export type ListAdvertisersInput = v.InferOutput<typeof ListAdvertisersQuery>;

export const AdvertiserSchema = v.object({
  id: IdSchema,
  name: v.string(),
  status: StatusSchema,
  require_strong_signature: v.boolean(),
  postback_ip_allowlist: v.array(v.string()),
  created_at: TimestampSchema,
});
export type Advertiser = v.InferOutput<typeof AdvertiserSchema>;
