// Destination macros (seed: "Sub ID Macros"). Values are URL-encoded; unknown braces are left
// alone so an advertiser's own templating survives.

export interface MacroValues {
  click_id: string;
  timestamp: number;
  ip: string;
  country: string;
  device: string;
  os: string;
  browser: string;
  sub1?: string | null;
  sub2?: string | null;
  sub3?: string | null;
  sub4?: string | null;
  sub5?: string | null;
  tracking_code?: string;
  offer_id?: string;
  publisher_id?: string;
}

const MACRO = /\{([a-z_0-9]+)\}/g;
const KNOWN = new Set([
  "click_id",
  "timestamp",
  "ip",
  "country",
  "device",
  "os",
  "browser",
  "sub1",
  "sub2",
  "sub3",
  "sub4",
  "sub5",
  "tracking_code",
  "offer_id",
  "publisher_id",
]);

export function fillMacros(template: string, values: MacroValues): string {
  if (!template.includes("{")) return template;
  const table = values as unknown as Record<string, string | number | null | undefined>;
  return template.replace(MACRO, (whole, name: string) => {
    if (!KNOWN.has(name)) return whole;
    const value = table[name];
    return value === null || value === undefined ? "" : encodeURIComponent(String(value));
  });
}

// A macro may only fill the path, query or fragment: a value in the scheme, user info, host or
// port would let the visitor (who chooses sub1–sub5) choose where the redirect goes.

/** Control characters: the URL parser drops tab, CR and LF silently, and a header cannot hold them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL_CHARS = /[\u0000-\u001F\u007F]/;

export type UrlTemplateProblem = "control_characters" | "not_http_url" | "macro_outside_path";

/** A template's literal origin (what no filled value may change), or why it is unusable. */
type TemplateShape =
  | { ok: true; normalised: string; protocol: string; host: string; username: string; password: string }
  | { ok: false; problem: UrlTemplateProblem };

/** Alphanumeric stand-ins survive URL serialisation in path, query and fragment unchanged. */
function placeholderPrefix(template: string): string {
  let prefix = "zzmacro";
  while (template.toLowerCase().includes(prefix)) prefix += "z";
  return prefix;
}

function shapeOf(template: string): TemplateShape {
  if (CONTROL_CHARS.test(template)) return { ok: false, problem: "control_characters" };
  const prefix = placeholderPrefix(template);
  const names: string[] = [];
  const masked = template.replace(MACRO, (whole) => {
    names.push(whole);
    return `${prefix}${names.length - 1}x`;
  });
  let url: URL;
  try {
    url = new URL(masked);
  } catch {
    return { ok: false, problem: "not_http_url" };
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname.length === 0) {
    return { ok: false, problem: "not_http_url" };
  }
  const authority = `${url.protocol}//${url.username}:${url.password}@${url.host}`.toLowerCase();
  if (authority.includes(prefix)) return { ok: false, problem: "macro_outside_path" };
  const normalised = url.href.replace(new RegExp(`${prefix}(\\d+)x`, "g"), (whole, i: string) => {
    return names[Number(i)] ?? whole;
  });
  return {
    ok: true,
    normalised,
    protocol: url.protocol,
    host: url.host,
    username: url.username,
    password: url.password,
  };
}

/**
 * A destination or fallback template checked and in its normalised (WHATWG-serialised) form, with
 * its `{macro}` placeholders kept verbatim; or why it is refused.
 */
export function normaliseUrlTemplate(
  template: string,
): { ok: true; url: string } | { ok: false; problem: UrlTemplateProblem } {
  const shape = shapeOf(template);
  return shape.ok ? { ok: true, url: shape.normalised } : shape;
}

const shapes = new Map<string, TemplateShape>();
const SHAPE_MEMO_LIMIT = 1_000;

function memoShape(template: string): TemplateShape {
  let shape = shapes.get(template);
  if (!shape) {
    shape = shapeOf(template);
    if (shapes.size >= SHAPE_MEMO_LIMIT) shapes.clear();
    shapes.set(template, shape);
  }
  return shape;
}

/**
 * The URL to redirect to: the template with its macros filled, serialised (so it is always a
 * valid Location header), or null when the template is unusable or a filled value would change
 * its scheme, user info, host or port. Never a URL whose origin the visitor chose.
 */
export function fillUrlTemplate(template: string, values: MacroValues): string | null {
  const shape = memoShape(template);
  if (!shape.ok) return null;
  let url: URL;
  try {
    url = new URL(fillMacros(template, values));
  } catch {
    return null;
  }
  if (
    url.protocol !== shape.protocol ||
    url.host !== shape.host ||
    url.username !== shape.username ||
    url.password !== shape.password
  ) {
    return null;
  }
  return url.href;
}
