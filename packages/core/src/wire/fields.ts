// Field schemas shared by the management resources: ids, names, emails, passwords, list queries,
// IP allowlists and country lists. One definition each, so every endpoint refuses alike.

import * as v from "valibot";
import { parseCidr } from "../cidr";
import { isIsoCurrency } from "../currency";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../password";

export const IdSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an id"),
  v.description("Resource id"),
);
/** Path parameters `{id}`: validated like bodies, so `%00` or a 10 kB id is a 400, not a lookup. */
export const IdParamSchema = v.object({ id: IdSchema });

export const NameSchema = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(200));
export const EmailSchema = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.maxLength(254),
  v.email("must be an email address"),
);
export const PasswordSchema = v.pipe(
  v.string(),
  v.minLength(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`),
  v.maxLength(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
);

/** A list query: `limit` 1..100 (default 50) and an opaque `cursor`, plus each route's filters. */
export const PageQueryEntries = {
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, "must be an integer"),
      v.transform(Number),
      v.minValue(1),
      v.maxValue(100),
    ),
    "50",
  ),
  cursor: v.optional(
    v.pipe(v.string(), v.maxLength(200), v.description("`next_cursor` of the previous page")),
  ),
};

export const SearchSchema = v.optional(
  v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1),
    v.maxLength(100),
    v.description("Case-insensitive name search"),
  ),
);

/**
 * IPv4/IPv6 addresses or CIDR ranges, e.g. "203.0.113.10" or "2001:db8::/32", checked by the same
 * parser that matches them at ingestion (cidr.ts), so nothing stored can fail to match everyone.
 */
export const IpListSchema = v.pipe(
  v.array(
    v.pipe(
      v.string(),
      v.trim(),
      v.maxLength(64, "must be an IP address or CIDR range"),
      v.check((s) => parseCidr(s) !== null, "must be an IP address or CIDR range"),
    ),
  ),
  v.maxLength(100),
);

/** An ISO 4217 currency code (currency.ts), stored upper-case. */
export const CurrencySchema = v.pipe(
  v.string(),
  v.maxLength(3, "must be an ISO 4217 currency code"),
  v.toUpperCase(),
  v.check(isIsoCurrency, "must be an ISO 4217 currency code"),
);

/** ISO 3166-1 alpha-2 codes, stored upper-case, without duplicates. */
export const CountryListSchema = v.pipe(
  v.array(
    v.pipe(v.string(), v.trim(), v.toUpperCase(), v.regex(/^[A-Z]{2}$/, "must be a 2-letter country code")),
  ),
  v.maxLength(250),
  v.transform((list) => [...new Set(list)]),
);

/**
 * A whole number in [min, max]. A note after a bound reads it for people: `(1 minute)` in
 * "must be at least 60 (1 minute)".
 */
export function IntegerInRange(
  min: number,
  max: number,
  description: string,
  notes: { min?: string; max?: string } = {},
) {
  const note = (text: string | undefined) => (text ? ` (${text})` : "");
  return v.pipe(
    v.number(),
    v.integer("must be an integer"),
    v.minValue(min, `must be at least ${min}${note(notes.min)}`),
    v.maxValue(max, `must be at most ${max}${note(notes.max)}`),
    v.description(description),
  );
}

/** Timestamps in responses: ISO 8601 in UTC. */
export const TimestampSchema = v.pipe(v.string(), v.description("ISO 8601 timestamp (UTC)"));
