// Publisher postback URLs (classic affiliate S2S): `{macro}` placeholders filled with the
// conversion's values, each URL-encoded, so no value can add a parameter or change the host.

export const POSTBACK_MACROS = [
  "click_id",
  "transaction_id",
  "conversion_id",
  "sub1",
  "sub2",
  "sub3",
  "sub4",
  "sub5",
  "payout",
  "currency",
  "status",
  "offer_id",
  "event_name",
  "timestamp",
  "signature",
] as const;

export type PostbackMacro = (typeof POSTBACK_MACROS)[number];
export type PostbackValues = Record<PostbackMacro, string>;

const KNOWN = new Set<string>(POSTBACK_MACROS);
const MACRO = /\{([a-z_0-9]+)\}/g;

/** The template with every known macro replaced by its URL-encoded value; unknown braces stay. */
export function fillPostbackUrl(template: string, values: PostbackValues): string {
  return template.replace(MACRO, (whole, name: string) =>
    KNOWN.has(name) ? encodeURIComponent(values[name as PostbackMacro] ?? "") : whole,
  );
}
