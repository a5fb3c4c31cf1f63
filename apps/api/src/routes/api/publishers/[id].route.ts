// /api/publishers/{id} — read (network admins, or a publisher user their own), update and delete
// (network admins). Suspending or reinstating rewrites the edge's link records at once.

import { PublisherSchema, UpdatePublisherBody } from "@afftrack/core";
import {
  deletePublisherOrThrow,
  getPublisherOrThrow,
  publisherNotFound,
  trackingCodesOfPublisher,
  updatePublisherOrThrow,
} from "@afftrack/db";
import type { Hono } from "hono";
import type { AppEnv } from "../../../context";
import { registerAccountItem } from "../account-routes";

export function registerPublisher(app: Hono<AppEnv>): void {
  registerAccountItem(app, {
    role: "publisher",
    path: "/api/publishers",
    tag: "Publishers",
    noun: "a publisher",
    schema: PublisherSchema,
    updateBody: UpdatePublisherBody,
    get: getPublisherOrThrow,
    update: updatePublisherOrThrow,
    remove: deletePublisherOrThrow,
    notFound: publisherNotFound,
    trackingCodes: trackingCodesOfPublisher,
    describe: {
      update: "Suspending a publisher stops their links counting at the edge at once.",
      remove: "Only a publisher without tracking links or users; suspend it otherwise (409).",
    },
    // An influencer_id already used by another publisher of the network.
    updateErrors: ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
  });
}
