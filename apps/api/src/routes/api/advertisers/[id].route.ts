// /api/advertisers/{id} — read (network admins, or an advertiser user their own), update and
// delete (network admins). Suspending or reinstating rewrites the edge's link records at once.

import { AdvertiserSchema, UpdateAdvertiserBody } from "@afftrack/core";
import {
  advertiserNotFound,
  deleteAdvertiserOrThrow,
  getAdvertiserOrThrow,
  trackingCodesOfAdvertiser,
  updateAdvertiserOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { registerAccountItem } from "../account-routes";

export function registerAdvertiser(app: Hono<AppEnv>): void {
  registerAccountItem(app, {
    role: "advertiser",
    path: "/api/advertisers",
    tag: "Advertisers",
    noun: "an advertiser",
    schema: AdvertiserSchema,
    updateBody: UpdateAdvertiserBody,
    get: getAdvertiserOrThrow,
    update: updateAdvertiserOrThrow,
    remove: deleteAdvertiserOrThrow,
    notFound: advertiserNotFound,
    trackingCodes: trackingCodesOfAdvertiser,
    describe: {
      update: "Suspending an advertiser stops its links counting at the edge at once.",
      remove: "Only an advertiser without offers or users; suspend it otherwise (409).",
    },
    updateErrors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
  });
}
