// Fraud rules per offer, decided at the edge (datacenter traffic, click frequency) and when a
// conversion arrives (time from click to conversion). Each rule has an action:
//   flag   the click or conversion counts and pays as usual, and is recorded as a fraud event;
//   hold   it counts, but conversions on it wait as `pending` for the advertiser's review;
//   reject the click is not counted (its verdict names the rule) and conversions on it pay nothing;
//          a conversion outside the time bounds is recorded `rejected`.
// Nothing is silently dropped: every rule that fires leaves a fraud event, whatever the action.

import * as v from "valibot";

export const FRAUD_ACTIONS = ["off", "flag", "hold", "reject"] as const;
export type FraudAction = (typeof FRAUD_ACTIONS)[number];

/** Names of the click-level rules, as stored in `clicks.flags` and `fraud_events.kind`. */
export const CLICK_FLAGS = ["datacenter", "ip_frequency", "link_frequency"] as const;
export type ClickFlag = (typeof CLICK_FLAGS)[number];
/** The conversion-level rule's fraud event kinds. */
export const CONVERSION_TIME_FLAGS = ["conversion_too_fast", "conversion_too_slow"] as const;

const action = (description: string) => v.pipe(v.picklist(FRAUD_ACTIONS), v.description(description));
const int = (min: number, max: number, description: string) =>
  v.pipe(
    v.number(),
    v.integer(`must be an integer from ${min} to ${max}`),
    v.minValue(min, `must be an integer from ${min} to ${max}`),
    v.maxValue(max, `must be an integer from ${min} to ${max}`),
    v.description(description),
  );

const FrequencyRuleSchema = v.strictObject({
  max_clicks: int(1, 1_000_000, "Clicks allowed per window; the ones beyond it fire the rule"),
  window_seconds: int(60, 86_400, "Fixed window, in seconds (1 minute to 1 day)"),
  action: action("What a click beyond the cap becomes"),
});

export const FraudRulesSchema = v.strictObject({
  datacenter: v.optional(
    action(
      "Clicks from a datacenter or hosting network (the visitor's ASN is on the platform's list): default `flag`",
    ),
  ),
  ip_frequency: v.optional(
    v.nullable(
      v.pipe(
        FrequencyRuleSchema,
        v.description("Clicks per visitor IP on this offer (default 20 an hour, `flag`); null: off"),
      ),
    ),
  ),
  link_frequency: v.optional(
    v.nullable(
      v.pipe(
        FrequencyRuleSchema,
        v.description("Clicks per tracking link, all visitors together (default off); null: off"),
      ),
    ),
  ),
  conversion_time: v.optional(
    v.nullable(
      v.pipe(
        v.strictObject({
          min_seconds: v.optional(
            v.nullable(int(0, 86_400, "A conversion sooner than this after its click suggests injection")),
          ),
          max_seconds: v.optional(
            v.nullable(
              int(60, 365 * 86_400, "A conversion later than this after its click suggests click spamming"),
            ),
          ),
          action: action("What a conversion outside the bounds becomes"),
        }),
        v.check(
          (r) => r.min_seconds == null || r.max_seconds == null || r.min_seconds < r.max_seconds,
          "min_seconds must be less than max_seconds",
        ),
        v.description("Bounds on the time from click to conversion (default off); null: off"),
      ),
    ),
  ),
});
export type FraudRulesInput = v.InferOutput<typeof FraudRulesSchema>;

const FrequencyViewSchema = v.object({
  max_clicks: v.number(),
  window_seconds: v.number(),
  action: v.picklist(FRAUD_ACTIONS),
});

/** An offer's rules as the API shows them: every default filled in. */
export const FraudRulesViewSchema = v.object({
  datacenter: v.picklist(FRAUD_ACTIONS),
  ip_frequency: v.nullable(FrequencyViewSchema),
  link_frequency: v.nullable(FrequencyViewSchema),
  conversion_time: v.nullable(
    v.object({
      min_seconds: v.nullable(v.number()),
      max_seconds: v.nullable(v.number()),
      action: v.picklist(FRAUD_ACTIONS),
    }),
  ),
});

export interface FrequencyRule {
  max_clicks: number;
  window_seconds: number;
  action: FraudAction;
}

/** An offer's rules with every default filled in. */
export interface FraudRules {
  datacenter: FraudAction;
  ip_frequency: FrequencyRule | null;
  link_frequency: FrequencyRule | null;
  conversion_time: { min_seconds: number | null; max_seconds: number | null; action: FraudAction } | null;
}

export const DEFAULT_FRAUD_RULES: FraudRules = {
  datacenter: "flag",
  ip_frequency: { max_clicks: 20, window_seconds: 3600, action: "flag" },
  link_frequency: null,
  conversion_time: null,
};

/** Stored (possibly partial) rules with the defaults for what is absent. */
export function withFraudDefaults(stored: Partial<FraudRules> | null | undefined): FraudRules {
  return {
    datacenter: stored?.datacenter ?? DEFAULT_FRAUD_RULES.datacenter,
    ip_frequency: stored?.ip_frequency === undefined ? DEFAULT_FRAUD_RULES.ip_frequency : stored.ip_frequency,
    link_frequency:
      stored?.link_frequency === undefined ? DEFAULT_FRAUD_RULES.link_frequency : stored.link_frequency,
    conversion_time:
      stored?.conversion_time === undefined
        ? DEFAULT_FRAUD_RULES.conversion_time
        : stored.conversion_time === null
          ? null
          : {
              min_seconds: stored.conversion_time.min_seconds ?? null,
              max_seconds: stored.conversion_time.max_seconds ?? null,
              action: stored.conversion_time.action,
            },
  };
}

/** An update merged into the stored rules (absent keys keep their value, null turns a rule off). */
export function mergeFraudRules(stored: Partial<FraudRules> | null, update: FraudRulesInput): FraudRules {
  return withFraudDefaults({ ...withFraudDefaults(stored), ...(update as Partial<FraudRules>) });
}

/**
 * Autonomous systems of cloud, hosting and colocation providers: traffic from them is servers, VPN
 * exits and scripts, rarely a person. A curated subset of the community list
 * github.com/brianhama/bad-asn-list (and its maintained forks), limited to large providers whose
 * networks serve no residential or mobile users; a deployment adds its own with DATACENTER_ASNS.
 * Cloudflare (13335) is deliberately absent: WARP carries real people.
 */
export const DATACENTER_PROVIDERS: Readonly<Record<string, readonly number[]>> = {
  "Amazon AWS": [16509, 14618, 8987],
  "Google, Google Cloud": [15169, 396982, 19527],
  "Microsoft Azure": [8075, 8068],
  "Oracle Cloud": [31898],
  "Alibaba Cloud": [45102, 37963],
  "Tencent Cloud": [132203, 45090],
  "Huawei Cloud": [136907, 55990],
  DigitalOcean: [14061, 62567],
  "Akamai Connected Cloud (Linode)": [63949],
  "Vultr (Choopa)": [20473],
  OVHcloud: [16276],
  Hetzner: [24940, 213230],
  Scaleway: [12876],
  Contabo: [51167, 40021],
  Leaseweb: [60781, 28753, 16265, 395954],
  M247: [9009],
  ColoCrossing: [36352],
  "FranTech / BuyVM": [53667],
  "Unified Layer": [46606],
  GoDaddy: [26496],
  IONOS: [8560],
  Hostinger: [47583],
  HIVELOCITY: [29802],
  iWeb: [32613],
  Interserver: [19318],
  "GMO Internet": [7506],
  "Sakura Internet": [9370],
  WorldStream: [49981],
  "IP Volume": [202425],
  AEZA: [210644],
  "PQ Hosting / Stark Industries": [44477],
};

export const DATACENTER_ASNS: ReadonlySet<number> = new Set(Object.values(DATACENTER_PROVIDERS).flat());

/** Whether an ASN is on the platform's datacenter list or the deployment's extra list. */
export function isDatacenterAsn(asn: unknown, extra: ReadonlySet<number> = new Set()): boolean {
  return typeof asn === "number" && (DATACENTER_ASNS.has(asn) || extra.has(asn));
}

/** The fixed window a timestamp falls in, for frequency counters. */
export function frequencyWindow(nowMs: number, windowSeconds: number): number {
  return Math.floor(nowMs / (windowSeconds * 1000));
}

export const ipFrequencyKey = (offerId: string, ipHash: string, window: number) =>
  `freq:ip:${offerId}:${ipHash}:${window}`;
export const linkFrequencyKey = (trackingCode: string, window: number) =>
  `freq:link:${trackingCode}:${window}`;

/**
 * What the conversion-time rule says of a conversion `elapsedMs` after its click: null when it is
 * within the bounds (or the rule is off), else the fraud event kind and the action.
 */
export function conversionTimeVerdict(
  rules: Pick<FraudRules, "conversion_time">,
  elapsedMs: number,
): { kind: (typeof CONVERSION_TIME_FLAGS)[number]; action: FraudAction } | null {
  const rule = rules.conversion_time;
  if (!rule || rule.action === "off") return null;
  if (rule.min_seconds !== null && elapsedMs < rule.min_seconds * 1000)
    return { kind: "conversion_too_fast", action: rule.action };
  if (rule.max_seconds !== null && elapsedMs > rule.max_seconds * 1000)
    return { kind: "conversion_too_slow", action: rule.action };
  return null;
}
