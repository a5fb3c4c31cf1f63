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
