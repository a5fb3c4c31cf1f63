// Log in with email and password; errors show the API's message and request id.

import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type ApiFailure, login } from "../api";
import { asFailure, ErrorBox } from "../ui";

export function LoginPage() {
  const { route, query } = useLocation();
  const [error, setError] = useState<ApiFailure | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section class="login card">
      <h1>Log in to AffTrack</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget as HTMLFormElement);
          setBusy(true);
          setError(null);
          try {
            await login(String(form.get("email")), String(form.get("password")));
            const next = query.next?.startsWith("/") && !query.next.startsWith("//") ? query.next : "/";
            route(next === "/login" ? "/" : next, true);
          } catch (err) {
            setError(asFailure(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      {error && <ErrorBox error={error} />}
      <p class="muted">
        No account yet? A network admin invites you; a new network starts with <code>pnpm demo</code> locally.
      </p>
    </section>
  );
}
