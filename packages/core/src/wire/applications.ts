// Applications to private offers that accept them: a publisher applies, the offer's advertiser or a
// network admin approves (the publisher is admitted to the offer) or rejects.

import * as v from "valibot";
import { IdSchema, PageQueryEntries, TimestampSchema } from "./fields";

export const APPLICATION_STATUSES = ["pending", "approved", "rejected"] as const;
const StatusSchema = v.picklist(APPLICATION_STATUSES);

const note = (max: number, what: string) =>
  v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(max), v.description(what))));

export const ApplyBodySchema = v.strictObject({
  message: note(1000, "A note to the advertiser: your traffic sources, audience, volume"),
});
export type ApplyBody = v.InferOutput<typeof ApplyBodySchema>;

export const ApplicationDecisionBodySchema = v.strictObject({
  status: v.picklist(["approved", "rejected"]),
  reason: note(500, "Shown to the publisher"),
});
export type ApplicationDecisionBody = v.InferOutput<typeof ApplicationDecisionBodySchema>;

export const ListApplicationsQuery = v.strictObject({
  ...PageQueryEntries,
  status: v.optional(StatusSchema),
  offer_id: v.optional(IdSchema),
});
export type ListApplicationsInput = v.InferOutput<typeof ListApplicationsQuery>;

export const ApplicationSchema = v.object({
  id: IdSchema,
  offer_id: IdSchema,
  offer_name: v.string(),
  advertiser_id: IdSchema,
  publisher_id: IdSchema,
  publisher_name: v.string(),
  status: StatusSchema,
  message: v.nullable(v.string()),
  reason: v.nullable(v.string()),
  created_at: TimestampSchema,
  decided_at: v.nullable(TimestampSchema),
});
export type Application = v.InferOutput<typeof ApplicationSchema>;
