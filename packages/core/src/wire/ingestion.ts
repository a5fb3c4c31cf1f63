// Wire formats of the ingestion API (seed: afftok-api-reference.md): valibot schemas of the SDK
// click, conversion, postback, batch and status-change bodies, shared by the API and the SDK.

import * as v from "valibot";
import { DEFAULT_CURRENCY, isIsoCurrency } from "../currency";
import { CODE_PATTERN } from "../ids";
import { REQUEST_NONCE_PATTERN } from "../request-signature";
import { ERROR_CODES } from "./common";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_BATCH_EVENTS = 100;
/** Fits conversions.amount numeric(14,4) with room for rollups; a larger amount is refused. */
export const MAX_AMOUNT = 1_000_000_000;
export const CONVERSION_STATUSES = ["pending", "approved", "rejected"] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];
export const SDK_PLATFORMS = ["android", "ios", "flutter", "react-native", "web"] as const;
export type SdkPlatform = (typeof SDK_PLATFORMS)[number];
export const DEFAULT_EVENT_TYPE = "conversion";
/** An event type: 1-32 chars of [a-z0-9_-] (`install`, `purchase`, ...). */
export const EventTypeSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9_-]{1,32}$/, "must be 1-32 chars of [a-z0-9_-]"),
);

const id = (max = 64) => v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(max));
const optionalText = (max: number) => v.optional(v.nullable(v.pipe(v.string(), v.maxLength(max))));

/** Flat key → primitive maps (custom_params, metadata): bounded, no nesting to store or index. */
const notArray = v.check((x: unknown) => !Array.isArray(x), "must be an object, not a list");
const ParamsSchema = v.pipe(
  v.unknown(),
  notArray,
  v.record(
    v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    v.nullable(v.union([v.pipe(v.string(), v.maxLength(1024)), v.pipe(v.number(), v.finite()), v.boolean()])),
  ),
  v.check((o) => Object.keys(o).length <= 50, "must have at most 50 keys"),
);

export const DeviceInfoSchema = v.pipe(
  v.unknown(),
  notArray,
  v.object({
    device_id: optionalText(128),
    fingerprint: optionalText(128),
    platform: optionalText(32),
    os_version: optionalText(32),
    model: optionalText(64),
  }),
);

/** Authentication fields every signed body carries (timestamp/nonce/signature move to headers in v2). */
export const SignedFields = {
  api_key: v.optional(v.pipe(v.string(), v.maxLength(128))),
  advertiser_id: id(),
  timestamp: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
  nonce: v.optional(
    v.pipe(v.string(), v.regex(REQUEST_NONCE_PATTERN, "must be 8-128 chars of [A-Za-z0-9_-]")),
  ),
  signature: v.optional(v.pipe(v.string(), v.maxLength(256))),
};

export const SignedEnvelopeSchema = v.object(SignedFields);
export type SignedEnvelope = v.InferOutput<typeof SignedEnvelopeSchema>;

const ClickFields = {
  offer_id: id(),
  /** Required here though the seed lists it as optional: a click must belong to a publisher's link. */
  tracking_code: v.pipe(v.string(), v.regex(CODE_PATTERN, "must be a tracking code")),
  sub_id_1: optionalText(255),
  sub_id_2: optionalText(255),
  sub_id_3: optionalText(255),
  sub_id_4: optionalText(255),
  sub_id_5: optionalText(255),
  user_id: optionalText(128),
  /** Server-side clicks (s2s examples) pass the visitor's IP and user agent. */
  ip: optionalText(45),
  user_agent: optionalText(1024),
  device_info: v.optional(v.nullable(DeviceInfoSchema)),
  custom_params: v.optional(v.nullable(ParamsSchema)),
};

const ConversionFields = {
  offer_id: id(),
  /** Required: conversions are unique per advertiser and transaction_id. */
  transaction_id: id(128),
  /** What happened; an offer listing `paid_event_types` pays only those, each with its own cap. */
  event_type: v.optional(
    v.pipe(
      EventTypeSchema,
      v.description(
        "What happened (default `conversion`). The per-click cap is shared by all event types unless the offer lists `paid_event_types`: then each listed type has its own cap and others pay nothing",
      ),
    ),
    DEFAULT_EVENT_TYPE,
  ),
  click_id: optionalText(64),
  amount: v.optional(
    v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`)),
    0,
  ),
  currency: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(3),
      v.toUpperCase(),
      v.check(isIsoCurrency, "must be an ISO 4217 currency code"),
    ),
    DEFAULT_CURRENCY,
  ),
  status: v.optional(v.picklist(CONVERSION_STATUSES), "approved"),
  user_id: optionalText(128),
  device_info: v.optional(v.nullable(DeviceInfoSchema)),
  custom_params: v.optional(v.nullable(ParamsSchema)),
  metadata: v.optional(v.nullable(ParamsSchema)),
};

export const SdkClickBodySchema = v.object({ ...SignedFields, ...ClickFields });
export type SdkClickBody = v.InferOutput<typeof SdkClickBodySchema>;

export const ConversionBodySchema = v.object({ ...SignedFields, ...ConversionFields });
export type ConversionBody = v.InferOutput<typeof ConversionBodySchema>;

/** The postback carries the conversion's fields (the seed's example is a subset). */
export const PostbackBodySchema = ConversionBodySchema;
export type PostbackBody = ConversionBody;

export const BatchClickEventSchema = v.object({ type: v.literal("click"), ...ClickFields });
export const BatchConversionEventSchema = v.object({ type: v.literal("conversion"), ...ConversionFields });
export const BatchEventSchema = v.variant("type", [BatchClickEventSchema, BatchConversionEventSchema]);
export type BatchEvent = v.InferOutput<typeof BatchEventSchema>;
/** The event fields without envelope or batch `type`: what the API's services consume. */
export const ClickFieldsSchema = v.object(ClickFields);
export const ConversionFieldsSchema = v.object(ConversionFields);
export type ClickFieldsInput = v.InferOutput<typeof ClickFieldsSchema>;
export type ConversionFieldsInput = v.InferOutput<typeof ConversionFieldsSchema>;

/** Events are validated one by one (one result per event), so the envelope only bounds the list. */
export const BatchBodySchema = v.object({
  ...SignedFields,
  events: v.pipe(
    v.array(v.unknown()),
    v.minLength(1, "must hold at least one event"),
    v.maxLength(MAX_BATCH_EVENTS, `must hold at most ${MAX_BATCH_EVENTS} events`),
  ),
});
export type BatchBody = v.InferOutput<typeof BatchBodySchema>;

export const ConversionStatusBodySchema = v.pipe(
  v.object({
    ...SignedFields,
    conversion_id: optionalText(64),
    transaction_id: optionalText(128),
    status: v.picklist(["approved", "rejected"]),
    reason: optionalText(500),
  }),
  v.forward(
    v.check(
      (b) => Boolean(b.conversion_id || b.transaction_id),
      "conversion_id or transaction_id is required",
    ),
    ["conversion_id"],
  ),
);
export type ConversionStatusBody = v.InferOutput<typeof ConversionStatusBodySchema>;

/** The dashboard's status change (`POST /api/conversions/{id}/status`, signed in with a JWT). */
export const ConversionStatusChangeBodySchema = v.object({
  status: v.picklist(["approved", "rejected"]),
  reason: optionalText(500),
});
export type ConversionStatusChangeBody = v.InferOutput<typeof ConversionStatusChangeBodySchema>;

export const SdkHeadersSchema = v.object({
  version: v.optional(v.pipe(v.string(), v.regex(/^[0-9A-Za-z.+_-]{1,32}$/, "must be a version string"))),
  platform: v.optional(v.picklist(SDK_PLATFORMS)),
});

// ---------------------------------------------------------------------------------------------
// Responses: the `data` of each endpoint's success envelope.

export const SdkClickDataSchema = v.object({
  click_id: v.pipe(v.string(), v.description("The new click; report conversions with it")),
  offer_id: v.string(),
  tracking_code: v.string(),
});
export type SdkClickData = v.InferOutput<typeof SdkClickDataSchema>;

export const SdkConversionDataSchema = v.object({
  conversion_id: v.string(),
  offer_id: v.pipe(v.string(), v.description("The offer credited: the click's offer when attributed")),
  transaction_id: v.string(),
  amount: v.number(),
  currency: v.string(),
  status: v.pipe(
    v.picklist(CONVERSION_STATUSES),
    v.description("As recorded: an allowlisted advertiser's SDK conversions wait as pending"),
  ),
});
export type SdkConversionData = v.InferOutput<typeof SdkConversionDataSchema>;

export const PostbackDataSchema = v.object({ conversion_id: v.string() });
export type PostbackData = v.InferOutput<typeof PostbackDataSchema>;

const EventIndex = v.pipe(v.number(), v.description("Position of the event in `events`"));

/** One result per batch event, in order: the event's data, or why it was refused. */
export const BatchEventResultSchema = v.union([
  v.object({
    index: EventIndex,
    type: v.literal("click"),
    success: v.literal(true),
    data: SdkClickDataSchema,
  }),
  v.object({
    index: EventIndex,
    type: v.literal("conversion"),
    success: v.literal(true),
    data: SdkConversionDataSchema,
  }),
  v.object({
    index: EventIndex,
    type: v.pipe(v.nullable(v.string()), v.description("The event's `type` as sent, if it had one")),
    success: v.literal(false),
    error: v.string(),
    code: v.picklist(ERROR_CODES),
  }),
]);
export type BatchEventResult = v.InferOutput<typeof BatchEventResultSchema>;

export const BatchDataSchema = v.object({
  accepted: v.number(),
  rejected: v.number(),
  results: v.array(BatchEventResultSchema),
});
export type BatchData = v.InferOutput<typeof BatchDataSchema>;

export const ConversionStatusDataSchema = v.object({
  conversion_id: v.string(),
  transaction_id: v.string(),
  previous_status: v.picklist(CONVERSION_STATUSES),
  status: v.picklist(CONVERSION_STATUSES),
});
export type ConversionStatusData = v.InferOutput<typeof ConversionStatusDataSchema>;
