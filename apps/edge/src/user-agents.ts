// Per-isolate memo of user-agent classification: real traffic repeats a small set of agents,
// and the bot pattern list is one large regular expression.

import { classifyUserAgent, type UserAgentInfo } from "@afftrack/core";

const memo = new Map<string, UserAgentInfo>();
const MEMO_LIMIT = 2_000;
const MAX_MEMO_KEY = 512;

export function userAgentInfo(userAgent: string | null): UserAgentInfo {
  const ua = userAgent ?? "";
  if (ua.length > MAX_MEMO_KEY) return classifyUserAgent(ua);
  let info = memo.get(ua);
  if (!info) {
    info = classifyUserAgent(ua);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(ua, info);
  }
  return info;
}
