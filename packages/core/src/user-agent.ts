// Coarse user-agent classification for the {device}/{os}/{browser} macros and click rows. Bot
// detection uses the maintained `isbot` pattern list; the rest is a small ordered rule table.

import { isbot } from "isbot";

export interface UserAgentInfo {
  device: "desktop" | "mobile" | "tablet" | "bot" | "unknown";
  os: string;
  browser: string;
  bot: boolean;
}

const OS_RULES: Array<[RegExp, string]> = [
  [/iPhone|iPad|iPod|CPU (?:iPhone )?OS \d/, "iOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Windows NT|Windows Phone|Win64|Win32/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Linux|X11/, "Linux"],
];

// Order matters: Edge and Opera carry "Chrome" too, Chrome carries "Safari".
const BROWSER_RULES: Array<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/SamsungBrowser\//, "Samsung Internet"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\//, "Chrome"],
  [/Safari\//, "Safari"],
];

export function classifyUserAgent(userAgent: string | null | undefined): UserAgentInfo {
  const ua = userAgent ?? "";
  if (ua === "" || isbot(ua)) {
    return { device: "bot", os: "unknown", browser: "unknown", bot: true };
  }
  const os = OS_RULES.find(([re]) => re.test(ua))?.[1] ?? "unknown";
  const browser = BROWSER_RULES.find(([re]) => re.test(ua))?.[1] ?? "unknown";
  let device: UserAgentInfo["device"] = "desktop";
  if (/iPad|Tablet/.test(ua) || (/Android/.test(ua) && !/Mobile/.test(ua))) device = "tablet";
  else if (/Mobi|iPhone|iPod|Android/.test(ua)) device = "mobile";
  else if (os === "unknown" && browser === "unknown") device = "unknown";
  return { device, os, browser, bot: false };
}
