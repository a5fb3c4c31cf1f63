// Webhooks and publisher postback URLs of the management API (issue 10): endpoints, secrets shown
// once, the delivery log with its attempts, resend and recover; and the messages of the `webhooks`
// queue (conversion facts to fan out, deliveries to attempt).

import * as v from "valibot";
import { normaliseUrlTemplate } from "../macros";
import type { FraudFact } from "../webhook-fraud";
import { IdSchema, PageQueryEntries, TimestampSchema } from "./fields";
import { CONVERSION_STATUSES } from "./ingestion";

export const WEBHOOK_EVENTS = [
  "conversion.created",
  "conversion.updated",
  "fraud.detected",
  "endpoint.disabled",
  "test",
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const DEFAULT_SECRET_OVERLAP_HOURS = 24;

/** An http(s) URL up to 2 KB; where it may point is checked by the SSRF guard in the route. */
const EndpointUrlSchema = v.pipe(
  v.string(),
  v.check((url) => !/[\t\r\n]/.test(url), "must not contain control characters (tab, CR, LF)"),
  v.trim(),
  v.maxLength(2048),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const result = normaliseUrlTemplate(dataset.value);
    if (result.ok) return result.url;
    addIssue({
      message:
        result.problem === "macro_outside_path"
          ? "macros are allowed only in the path, query and fragment, not in the scheme or host"
          : "must be an http(s) URL",
    });
    return NEVER;
  }),
  v.description("http(s) URL the deliveries are sent to"),
);

const EventsSchema = v.pipe(
  v.array(v.picklist(WEBHOOK_EVENTS)),
  v.minLength(1, "must name at least one event"),
  v.transform((list) => [...new Set(list)]),
  v.description(
    "Events this endpoint receives (`endpoint.disabled` always reaches an owner's other endpoints)",
  ),
);

const StatusesSchema = v.pipe(
  v.array(v.picklist(CONVERSION_STATUSES)),
  v.minLength(1, "must name at least one status"),
  v.transform((list) => [...new Set(list)]),
  v.description("Conversion statuses that fire the postback"),
);

const DescriptionSchema = v.pipe(v.string(), v.trim(), v.maxLength(200));
const OfferScopeSchema = v.pipe(IdSchema, v.description("Only conversions of this offer"));

export const CreateWebhookBody = v.strictObject({
  url: EndpointUrlSchema,
  events: EventsSchema,
  offer_id: v.optional(OfferScopeSchema),
  enabled: v.optional(v.boolean()),
  description: v.optional(DescriptionSchema),
  advertiser_id: v.optional(v.pipe(IdSchema, v.description("Network admins: the advertiser it is for"))),
  publisher_id: v.optional(v.pipe(IdSchema, v.description("Network admins: the publisher it is for"))),
});
export type CreateWebhookInput = v.InferOutput<typeof CreateWebhookBody>;

export const UpdateWebhookBody = v.strictObject({
  url: v.optional(EndpointUrlSchema),
  events: v.optional(EventsSchema),
  offer_id: v.optional(v.nullable(OfferScopeSchema)),
  enabled: v.optional(v.pipe(v.boolean(), v.description("true re-enables a disabled endpoint"))),
  description: v.optional(v.nullable(DescriptionSchema)),
});
export type UpdateWebhookInput = v.InferOutput<typeof UpdateWebhookBody>;

export const ListEndpointsQuery = v.strictObject({ ...PageQueryEntries });

export const RotateSecretBody = v.strictObject({
  overlap_hours: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      v.maxValue(168, "must be at most 168 (7 days)"),
      v.description("How long the old secret keeps signing too (default 24)"),
    ),
  ),
});

const EndpointState = {
  id: IdSchema,
  owner_type: v.picklist(["advertiser", "publisher"]),
  advertiser_id: v.nullable(IdSchema),
  publisher_id: v.nullable(IdSchema),
  url: v.string(),
  offer_id: v.nullable(IdSchema),
  enabled: v.boolean(),
  disabled_reason: v.pipe(
    v.nullable(v.string()),
    v.description(
      "Why delivery stopped: `gone` (the endpoint answered 410), `failing` (5 days of failures), `manual`",
    ),
  ),
  failing_since: v.pipe(
    v.nullable(TimestampSchema),
    v.description("First failure of the current failing streak"),
  ),
  description: v.nullable(v.string()),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
};

export const WebhookEndpointSchema = v.object({ ...EndpointState, events: v.array(v.string()) });
export type WebhookEndpoint = v.InferOutput<typeof WebhookEndpointSchema>;

export const SecretIssuedSchema = v.object({
  secret: v.pipe(v.string(), v.description("whsec_ signing secret; shown this once")),
  previous_secrets_expire_at: v.pipe(
    v.nullable(TimestampSchema),
    v.description("Until then the old secret signs too (rotation overlap)"),
  ),
});

export const CreatedWebhookSchema = v.object({ ...WebhookEndpointSchema.entries, secret: v.string() });
export const RotatedWebhookSchema = v.object({
  endpoint: WebhookEndpointSchema,
  ...SecretIssuedSchema.entries,
});

export const PostbackUrlSchema = v.object({
  ...EndpointState,
  method: v.picklist(["GET", "POST"]),
  statuses: v.array(v.string()),
  fire_on: v.pipe(
    v.picklist(["all", "first"]),
    v.description("`first`: only a click's first conversion fires; `all`: every conversion"),
  ),
});
export type PostbackUrl = v.InferOutput<typeof PostbackUrlSchema>;
export const CreatedPostbackUrlSchema = v.object({ ...PostbackUrlSchema.entries, secret: v.string() });
export const RotatedPostbackUrlSchema = v.object({
  endpoint: PostbackUrlSchema,
  ...SecretIssuedSchema.entries,
});

export const CreatePostbackUrlBody = v.strictObject({
  url: v.pipe(
    EndpointUrlSchema,
    v.description(
      "Template with macros {click_id} {transaction_id} {conversion_id} {sub1}–{sub5} {payout} {currency} {status} {offer_id} {event_name} {timestamp} {signature}",
    ),
  ),
  method: v.optional(v.picklist(["GET", "POST"]), "GET"),
  statuses: v.optional(StatusesSchema, ["approved"]),
  fire_on: v.optional(v.picklist(["all", "first"]), "all"),
  offer_id: v.optional(OfferScopeSchema),
  enabled: v.optional(v.boolean()),
  description: v.optional(DescriptionSchema),
  publisher_id: v.optional(v.pipe(IdSchema, v.description("Network admins: the publisher it is for"))),
});
export type CreatePostbackUrlInput = v.InferOutput<typeof CreatePostbackUrlBody>;

export const UpdatePostbackUrlBody = v.strictObject({
  url: v.optional(EndpointUrlSchema),
  method: v.optional(v.picklist(["GET", "POST"])),
  statuses: v.optional(StatusesSchema),
  fire_on: v.optional(v.picklist(["all", "first"])),
  offer_id: v.optional(v.nullable(OfferScopeSchema)),
  enabled: v.optional(v.boolean()),
  description: v.optional(v.nullable(DescriptionSchema)),
});
export type UpdatePostbackUrlInput = v.InferOutput<typeof UpdatePostbackUrlBody>;

// ---------------------------------------------------------------------------------------------
// Delivery log

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

export const DeliveryAttemptSchema = v.object({
  attempt: v.number(),
  trigger: v.picklist(["scheduled", "resend", "recover"]),
  request_method: v.string(),
  request_url: v.string(),
  request_headers: v.record(v.string(), v.string()),
  request_body: v.nullable(v.string()),
  response_status: v.nullable(v.number()),
  response_body: v.pipe(v.nullable(v.string()), v.description("First 1 KB of the answer")),
  error: v.pipe(v.nullable(v.string()), v.description("Network error or timeout, when there was no answer")),
  latency_ms: v.number(),
  next_attempt_at: v.nullable(TimestampSchema),
  created_at: TimestampSchema,
});

export const WebhookDeliverySchema = v.object({
  id: v.pipe(v.string(), v.description("The webhook-id: the same on every retry and resend")),
  event_id: v.string(),
  event_type: v.string(),
  conversion_id: v.nullable(v.string()),
  status: v.picklist(DELIVERY_STATUSES),
  attempt_count: v.number(),
  last_response_status: v.nullable(v.number()),
  next_attempt_at: v.nullable(TimestampSchema),
  succeeded_at: v.nullable(TimestampSchema),
  created_at: TimestampSchema,
  attempts: v.array(DeliveryAttemptSchema),
});
export type WebhookDelivery = v.InferOutput<typeof WebhookDeliverySchema>;

export const ListDeliveriesQuery = v.strictObject({
  ...PageQueryEntries,
  status: v.optional(v.picklist(DELIVERY_STATUSES)),
});
export type ListDeliveriesInput = v.InferOutput<typeof ListDeliveriesQuery>;

export const DeliveryParamSchema = v.object({
  id: IdSchema,
  delivery: v.pipe(
    v.string(),
    v.regex(/^msg_[0-9a-f]{32}$/, "must be a delivery id"),
    v.description("Delivery id"),
  ),
});

export const RecoverBody = v.strictObject({
  since: v.pipe(
    v.string(),
    v.isoTimestamp("must be an ISO 8601 timestamp"),
    v.description("Re-send every delivery that failed since then"),
  ),
});

export const QueuedDeliveriesSchema = v.object({
  queued: v.pipe(v.number(), v.description("Deliveries queued for another attempt")),
  delivery_ids: v.array(v.string()),
});

export const TestEventSchema = v.object({
  delivery_id: v.pipe(v.string(), v.description("Look it up in the delivery log")),
  event_id: v.string(),
});

export const TestWebhookBody = v.strictObject({
  data: v.optional(v.record(v.string(), v.unknown())),
});

// ---------------------------------------------------------------------------------------------
// Messages of the `webhooks` queue

export type WebhookTrigger = "scheduled" | "resend" | "recover";

export type WebhookQueueMessage =
  /** A conversion was created or changed status (sent after commit): expand into deliveries. */
  | {
      v: 1;
      kind: "conversion";
      type: "conversion.created" | "conversion.updated";
      conversion_id: string;
      status: string;
      previous_status: string | null;
      occurred_at: number;
    }
  /** Fraud events of a committed click batch (or a flagged conversion): expand into `fraud.detected`. */
  | { v: 1; kind: "fraud"; facts: FraudFact[] }
  /** Attempt delivery `delivery_id` when `attempt_count` is still `attempt` (a duplicate finds it moved on). */
  | {
      v: 1;
      kind: "deliver";
      delivery_id: string;
      attempt: number;
      trigger: WebhookTrigger;
      not_before: number;
    };
