// API keys of an advertiser: create (shown once), rotate, revoke.

import { useState } from "preact/hooks";
import { type ApiFailure, api, currentUser, unwrap } from "../api";
import { asFailure, CopyButton, Empty, ErrorBox, Show, Table, useLoad } from "../ui";

interface Key {
  id: string;
  advertiser_id: string;
  prefix: string;
  status: string;
  last_used_at: string | null;
  created_at: string;
}

export function ApiKeysPage() {
  const role = currentUser()?.role;
  const [keys, reload] = useLoad(
    async () => (await unwrap(api.GET("/api/api-keys", {}))) as { items: Key[] },
    [],
  );
  const [advertisers] = useLoad(
    async () =>
      role === "network_admin"
        ? (
            (await unwrap(api.GET("/api/advertisers", { params: { query: { limit: "100" } as never } }))) as {
              items: Array<{ id: string; name: string }>;
            }
          ).items
        : null,
    [role],
  );
  const [fresh, setFresh] = useState<{ key: string; signing_secret: string } | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      reload();
    } catch (err) {
      setError(asFailure(err));
    }
  };
  return (
    <section>
      <h1>API keys</h1>
      <form
        class="card form-inline"
        aria-label="Create an API key"
        onSubmit={(e) => {
          e.preventDefault();
          const advertiser = new FormData(e.currentTarget as HTMLFormElement).get("advertiser_id");
          void act(async () =>
            setFresh(
              (await unwrap(
                api.POST("/api/api-keys", { body: advertiser ? { advertiser_id: String(advertiser) } : {} }),
              )) as {
                key: string;
                signing_secret: string;
              },
            ),
          );
        }}
      >
        {advertisers.state === "ok" && advertisers.data && (
          <label>
            Advertiser
            <select name="advertiser_id">
              {advertisers.data.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit">Create an API key</button>
      </form>
      {fresh && (
        <div class="card notice" role="status">
          <p>Copy these now: they are shown once.</p>
          <p>
            Key <code>{fresh.key}</code> <CopyButton text={fresh.key} />
          </p>
          <p>
            Signing secret <code>{fresh.signing_secret}</code> <CopyButton text={fresh.signing_secret} />
          </p>
        </div>
      )}
      {error && <ErrorBox error={error} />}
      <Show value={keys}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No API keys yet. Create one to send postbacks and conversions from your servers.</Empty>
          ) : (
            <Table
              caption="API keys"
              head={["Key", "Status", "Last used", "Created", ""]}
              rows={items.map((k) => [
                <code key="p">{k.prefix}…</code>,
                k.status,
                k.last_used_at ? new Date(k.last_used_at).toLocaleString() : "never",
                new Date(k.created_at).toLocaleDateString(),
                k.status === "active" ? (
                  <span key="a" class="actions">
                    <button
                      type="button"
                      class="small secondary"
                      onClick={() =>
                        act(async () =>
                          setFresh(
                            (
                              (await unwrap(
                                api.POST("/api/api-keys/{id}/rotate", {
                                  params: { path: { id: k.id } },
                                  body: {},
                                }),
                              )) as {
                                api_key: { key: string; signing_secret: string };
                              }
                            ).api_key,
                          ),
                        )
                      }
                    >
                      Rotate
                    </button>
                    <button
                      type="button"
                      class="small danger"
                      onClick={() =>
                        act(() =>
                          unwrap(api.DELETE("/api/api-keys/{id}", { params: { path: { id: k.id } } })),
                        )
                      }
                    >
                      Revoke
                    </button>
                  </span>
                ) : (
                  ""
                ),
              ])}
            />
          )
        }
      </Show>
    </section>
  );
}
