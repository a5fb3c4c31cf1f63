// Tracking links: copy buttons and a signed-link generator (a fresh signature with a chosen TTL).

import { useState } from "preact/hooks";
import { type ApiFailure, api, unwrap } from "../api";
import { asFailure, CopyButton, Empty, ErrorBox, LoadMore, type Page, Show, Table, usePaged } from "../ui";

interface Link {
  user_offer_id: string;
  offer_name: string;
  offer_status: string;
  tracking_code: string;
  tracking_url: string;
  short_link: string | null;
}

export function LinksPage() {
  const [links] = usePaged(
    async (cursor) =>
      (await unwrap(
        api.GET("/api/links", {
          params: { query: { limit: "100", ...(cursor ? { cursor } : {}) } as never },
        }),
      )) as Page<Link>,
    [],
  );
  const [signed, setSigned] = useState<{ signed_link: string; expires_at: string } | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  return (
    <section>
      <h1>Tracking links</h1>
      <Show value={links}>
        {(paged) =>
          paged.items.length === 0 ? (
            <Empty>No links yet. Open Offers and press “Join” on an offer to get your tracking link.</Empty>
          ) : (
            <>
              <Table
                caption="Tracking links"
                head={["Offer", "Tracking code", "Link", ""]}
                rows={paged.items.map((l) => [
                  l.offer_name,
                  <code key="c">{l.tracking_code}</code>,
                  <code key="u" class="link">
                    {l.short_link ?? l.tracking_url}
                  </code>,
                  <CopyButton key="b" text={l.short_link ?? l.tracking_url} />,
                ])}
              />
              <LoadMore list={paged} noun="links" />
              <form
                class="card form-grid"
                aria-label="Signed link generator"
                onSubmit={async (e) => {
                  e.preventDefault();
                  const form = new FormData(e.currentTarget as HTMLFormElement);
                  setError(null);
                  try {
                    const ttl = Number(form.get("ttl_minutes") || 0);
                    setSigned(
                      (await unwrap(
                        api.POST("/api/links/sign", {
                          body: {
                            tracking_code: String(form.get("tracking_code")),
                            ...(ttl ? { ttl_minutes: ttl } : {}),
                          },
                        }),
                      )) as { signed_link: string; expires_at: string },
                    );
                  } catch (err) {
                    setError(asFailure(err));
                  }
                }}
              >
                <h2>Signed link generator</h2>
                <label>
                  Tracking link
                  <select name="tracking_code">
                    {paged.items.map((l) => (
                      <option key={l.tracking_code} value={l.tracking_code}>
                        {l.offer_name} ({l.tracking_code})
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  Valid for (minutes; empty: the offer's default)
                  <input name="ttl_minutes" type="number" min="1" max="1440" />
                </label>
                <div class="actions">
                  <button type="submit">Sign a link</button>
                </div>
                {signed && (
                  <p class="signed">
                    <code class="link" data-testid="signed-link">
                      {signed.signed_link}
                    </code>{" "}
                    <CopyButton text={signed.signed_link} />{" "}
                    <span class="muted">counts until {new Date(signed.expires_at).toLocaleString()}</span>
                  </p>
                )}
                {error && <ErrorBox error={error} />}
              </form>
            </>
          )
        }
      </Show>
    </section>
  );
}
