// The session and the typed API client: the SDK's `createApiClient` over the same origin, with the
// access token refreshed before it expires (and once more on a 401), one refresh at a time.

import { type ApiClient, createApiClient } from "@afftrack/sdk";

export type Role = "network_admin" | "advertiser" | "publisher";

export interface SessionUser {
  id: string;
  tenant_id: string;
  email: string;
  name: string | null;
  role: Role;
  advertiser_id: string | null;
  publisher_id: string | null;
}

interface Session {
  access_token: string;
  refresh_token: string;
  /** ms since the epoch when the access token stops working. */
  expires_at: number;
  user: SessionUser;
}

interface SessionBody {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: SessionUser;
}

const KEY = "afftrack.session";
const listeners = new Set<(s: Session | null) => void>();

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

let session: Session | null = load();

function save(next: Session | null): void {
  session = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  for (const fn of listeners) fn(next);
}

function fromBody(body: SessionBody): Session {
  return {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: Date.now() + body.expires_in * 1000,
    user: body.user,
  };
}

export function currentUser(): SessionUser | null {
  return session?.user ?? null;
}

export function onSession(fn: (s: Session | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** An API answer that was not a success: the API's message, code and request id, for support. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

async function failureOf(res: Response): Promise<ApiFailure> {
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as { error?: string; code?: string; request_id?: string } | null;
  return new ApiFailure(
    body?.error ?? `HTTP ${res.status}`,
    body?.code ?? "UNKNOWN",
    res.status,
    body?.request_id ?? res.headers.get("x-request-id"),
  );
}

let refreshing: Promise<boolean> | null = null;

/** Spends the refresh token once; a spent token answers 401 and the user logs in again. */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    // Another tab may have refreshed already: its token is in storage.
    const stored = load();
    if (stored && stored.access_token !== session?.access_token && stored.expires_at > Date.now() + 30_000) {
      session = stored;
      return true;
    }
    const token = session?.refresh_token;
    if (!token) return false;
    const res = await fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: token }),
    });
    if (!res.ok) {
      save(null);
      return false;
    }
    const body = (await res.json()) as { data: SessionBody };
    save(fromBody(body.data));
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function accessToken(): Promise<string | undefined> {
  if (session && session.expires_at < Date.now() + 30_000) await refresh();
  return session?.access_token;
}

export async function login(email: string, password: string): Promise<SessionUser> {
  const res = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw await failureOf(res);
  const body = (await res.json()) as { data: SessionBody };
  const next = fromBody(body.data);
  save(next);
  return next.user;
}

export async function logout(): Promise<void> {
  const token = session?.refresh_token;
  const bearer = session?.access_token;
  save(null);
  if (token)
    await fetch("/api/auth/logout", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ refresh_token: token }),
    }).catch(() => undefined);
}

/** The typed client; a 401 triggers one refresh and one retry with the new token. */
export const api: ApiClient = createApiClient({
  baseUrl: location.origin,
  token: accessToken,
  retry: { retries: 1 },
  fetch: async (request) => {
    const retry = request.clone();
    const res = await fetch(request);
    if (res.status !== 401 || !session) return res;
    // Refresh only if this request carried the current token (else another call already did).
    const stale = request.headers.get("authorization") !== `Bearer ${session.access_token}`;
    if (!stale && !(await refresh())) return res;
    if (!session) return res;
    const headers = new Headers(retry.headers);
    headers.set("authorization", `Bearer ${(session as Session).access_token}`);
    return fetch(new Request(retry, { headers }));
  },
});

/** Unwraps an openapi-fetch answer: the envelope's `data`, or an ApiFailure with the API's words. */
export async function unwrap<T>(
  p: Promise<{ data?: { data: T } | undefined; error?: unknown; response: Response }>,
): Promise<T> {
  let r: Awaited<typeof p>;
  try {
    r = await p;
  } catch (err) {
    throw new ApiFailure(`Network error: ${(err as Error).message}`, "NETWORK", 0, null);
  }
  if (r.data && r.response.ok) return r.data.data;
  // openapi-fetch has read the body already: its parsed error is the seed's envelope.
  const body = (typeof r.error === "object" && r.error ? r.error : {}) as {
    error?: string;
    code?: string;
    request_id?: string;
  };
  throw new ApiFailure(
    body.error ?? `HTTP ${r.response.status}`,
    body.code ?? "UNKNOWN",
    r.response.status,
    body.request_id ?? r.response.headers.get("x-request-id"),
  );
}

/** The live stream's URL and subprotocols (the browser cannot set an Authorization header). */
export async function liveSocket(): Promise<WebSocket | null> {
  const token = await accessToken();
  if (!token) return null;
  const url = new URL("/api/stats/stream", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(url, ["afftrack.live.v1", `bearer.${token}`]);
}
