// @afftrack/sdk: the typed API clients, request and link signing, safe retries and webhook
// verification. WebCrypto and fetch only, so it runs in browsers, Node 20+, React Native and Workers.

export {
  type ApiClient,
  type ApiClientOptions,
  createApiClient,
  createIngestClient,
  type IngestClient,
  type IngestClientOptions,
  type IngestResult,
  SDK_VERSION,
} from "./client";
export { randomNonce } from "./crypto";
export type { components, operations, paths } from "./generated/schema";
export { type RelayPolicy, relayWebConversion } from "./relay";
export {
  backoffDelay,
  methodPolicy,
  parseRetryAfter,
  type RetriedResponse,
  type RetryOptions,
  type RetryPolicy,
  sendWithRetry,
} from "./retry";
export { seedSignature, signBodySeed, signLink, signLinkToken, signRequestV2 } from "./signing";
export {
  seedWebhookSignature,
  verifySeedWebhook,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookEvent,
  WebhookVerificationError,
} from "./webhooks";
