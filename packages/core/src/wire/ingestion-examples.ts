// The seed's example requests and answers of the ingestion API (afftok-api-reference.md), once:
// the OpenAPI document shows them and the tests send them.

/** The seed's signed-body fields, with its placeholder values. */
const SEED_SIGNED = {
  api_key: "your_api_key",
  advertiser_id: "your_advertiser_id",
  timestamp: 1234567890000,
  nonce: "random_32_char_string",
  signature: "hmac_sha256_signature",
};

export const SEED_CLICK_REQUEST = {
  ...SEED_SIGNED,
  offer_id: "offer_123",
  tracking_code: "campaign_code",
  sub_id_1: "source",
  sub_id_2: "medium",
  sub_id_3: "campaign",
  user_id: "user_123",
  device_info: {
    device_id: "uuid",
    fingerprint: "sha256_hash",
    platform: "android",
    os_version: "13",
    model: "Pixel 7",
  },
  custom_params: { key: "value" },
};

export const SEED_CLICK_DATA = {
  click_id: "click_abc123",
  offer_id: "offer_123",
  tracking_code: "campaign_code",
};

/** The postback's example is the conversion's without user, device and metadata. */
export const SEED_POSTBACK_REQUEST = {
  ...SEED_SIGNED,
  offer_id: "offer_123",
  transaction_id: "txn_abc123",
  click_id: "click_xyz",
  amount: 29.99,
  currency: "USD",
  status: "approved",
  custom_params: { product_id: "prod_456" },
};

export const SEED_CONVERSION_REQUEST = {
  ...SEED_POSTBACK_REQUEST,
  user_id: "user_123",
  device_info: { device_id: "uuid", fingerprint: "sha256_hash" },
  metadata: { category: "electronics" },
};

export const SEED_CONVERSION_DATA = {
  conversion_id: "conv_abc123",
  offer_id: "offer_123",
  transaction_id: "txn_abc123",
  amount: 29.99,
  currency: "USD",
  status: "approved",
};

/** The seed's answer envelope around an example `data`. */
export const seedAnswer = (message: string, data: unknown) => ({ success: true, message, data });
