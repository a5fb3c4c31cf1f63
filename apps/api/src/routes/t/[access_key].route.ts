// POST /t/{access_key} — the streamtools tracker postback: a brand reports an influencer's event.
// The access key (in the path, as the seed's tracker host has it) names the customer; one SQL
// statement stores the event and its counter; after commit the influencer's widgets are told.

import {
  ApiError,
  SEED_TRACKER_REQUEST,
  successBody,
  TrackerEventBodySchema,
  type TrackerEventData,
  TrackerEventDataSchema,
  TrackerKeyParamSchema,
} from "@afftrack/core";
import type { TrackerKeyOwner } from "@afftrack/db";
import type { Hono, MiddlewareHandler } from "hono";
import type { AppContext, AppEnv } from "../../context";
import { describe, validate } from "../../openapi/route";
import {
  guardTrackerKey,
  notifyWidgets,
  recordTrackerPostback,
  trackerProduct,
} from "../../services/tracker";
import { trackerHostCustomerOf } from "../../tracker-hosts";

declare module "../../context" {
  interface ApiVariables {
    trackerOwner?: TrackerKeyOwner;
  }
}

/**
 * Before the body is looked at: 429 RATE_LIMITED past the key's or the client's limit, 401
 * INVALID_API_KEY for an unknown or revoked key, or a key of another customer than the tracker
 * host's (`api-tracker-{customer}`).
 */
function trackerKeyGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.param("access_key") ?? "";
    const owner = await guardTrackerKey(c, key);
    const hostCustomer = trackerHostCustomerOf(c.req.raw);
    if (hostCustomer !== undefined && hostCustomer !== owner.customer_code) {
      throw new ApiError("INVALID_API_KEY", "Unknown or revoked access key");
    }
    c.set("trackerOwner", owner);
    await next();
  };
}

function ownerOf(c: AppContext): TrackerKeyOwner {
  const owner = c.get("trackerOwner");
  if (!owner) throw new ApiError("INVALID_API_KEY", "Unknown or revoked access key");
  return owner;
}

export function registerTrackerPostback(app: Hono<AppEnv>): void {
  app.post(
    "/t/:access_key",
    describe({
      tag: "Influencer tracker",
      summary: "Track an influencer's event (streamtools postback)",
      description:
        "The seed's tracker call: `influencer_id` and `product` required, the rest optional, values " +
        "trimmed. The influencer is created on first sight. With the product's anti-cheat on, and " +
        "`ip` and `user_agent` given, a repeat of the same viewer for the same product, influencer " +
        "and event type within the UTC day is stored as filtered and not counted. Also served as " +
        "`POST /{access_key}` on `api-tracker-{customer}.{TRACKER_HOST_SUFFIX}` (the key must be " +
        "that customer's). Rate-limited per access key and per client IP (429 with Retry-After).",
      auth: "none",
      response: TrackerEventDataSchema,
      errors: ["INVALID_API_KEY", "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
      requestExample: SEED_TRACKER_REQUEST,
      example: successBody(
        { event_id: "tev_3kTzYq9fWb2XcV7n", counted: true, filtered_reason: null },
        "Event tracked",
      ),
    }),
    validate("param", TrackerKeyParamSchema),
    trackerKeyGuard(),
    validate("json", TrackerEventBodySchema),
    async (c) => {
      const owner = ownerOf(c);
      const input = c.req.valid("json");
      const services = c.get("services");
      const product = await trackerProduct(services, owner.customer_id, input.product);
      if (!product) {
        throw new ApiError(
          "INVALID_PARAMS",
          `Invalid parameter "product": no active product "${input.product}"`,
        );
      }
      const r = await recordTrackerPostback(services, owner, product, input);
      if (r.counted) {
        c.executionCtx.waitUntil(
          notifyWidgets(
            c.env,
            services,
            {
              tenant_id: owner.tenant_id,
              customer_code: owner.customer_code,
              product_id: product.id,
              product: input.product,
              influencer_id: input.influencer_id,
            },
            {
              event_type: input.event_type ?? null,
              event_name: input.event_name ?? null,
              campaign: input.campaign ?? null,
              test: false,
              at: services.now(),
            },
            r.totals,
          ),
        );
      }
      const data: TrackerEventData = {
        event_id: r.event_id,
        counted: r.counted,
        filtered_reason: r.filtered_reason,
      };
      return c.json(successBody(data, r.counted ? "Event tracked" : "Event recorded as filtered"));
    },
  );
}
