// Webhook endpoints with their delivery log (resend, test), and publishers' postback URLs.

import { useState } from "preact/hooks";
import { type ApiFailure, api, currentUser, unwrap } from "../api";
import {
  asFailure,
  CopyButton,
  Empty,
  ErrorBox,
  LoadMore,
  type Page,
  Show,
  Table,
  useLoad,
  usePaged,
} from "../ui";

interface Endpoint {
  id: string;
  url: string;
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  events: string[];
}
interface Delivery {
  id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  last_response_status: number | null;
  created_at: string;
}
const EVENTS = ["conversion.created", "conversion.updated", "fraud.detected", "endpoint.disabled"] as const;

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const [list, reload] = usePaged(
    async (cursor) =>
      (await unwrap(
        api.GET("/api/webhooks/{id}/deliveries", {
          params: {
            path: { id: endpoint.id },
            query: { limit: "100", ...(cursor ? { cursor } : {}) } as never,
          },
        }),
      )) as Page<Delivery>,
    [endpoint.id],
  );
  const [error, setError] = useState<ApiFailure | null>(null);
  return (
    <div class="deliveries" data-deliveries={endpoint.id}>
      <div class="actions">
        <button type="button" class="small secondary" onClick={reload}>
          Refresh log
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      <Show value={list}>
        {(paged) =>
          paged.items.length === 0 ? (
            <Empty>No deliveries yet. Press “Send test” or wait for a conversion.</Empty>
          ) : (
            <>
              <Table
                caption={`Deliveries to ${endpoint.url}`}
                head={["When", "Event", "Status", "Attempts", "Last answer", ""]}
                rows={paged.items.map((d) => [
                  new Date(d.created_at).toLocaleString(),
                  <span key="e" data-delivery-event={d.event_type}>
                    {d.event_type}
                  </span>,
                  <span key="s" class={`badge ${d.status}`}>
                    {d.status}
                  </span>,
                  String(d.attempt_count),
                  d.last_response_status === null ? "—" : `HTTP ${d.last_response_status}`,
                  <button
                    key="r"
                    type="button"
                    class="small secondary"
                    onClick={async () => {
                      setError(null);
                      try {
                        await unwrap(
                          api.POST("/api/webhooks/{id}/deliveries/{delivery}/resend", {
                            params: { path: { id: endpoint.id, delivery: d.id } },
                          }),
                        );
                        reload();
                      } catch (err) {
                        setError(asFailure(err));
                      }
                    }}
                  >
                    Resend
                  </button>,
                ])}
              />
              <LoadMore list={paged} noun="deliveries" />
            </>
          )
        }
      </Show>
    </div>
  );
}

function PostbackUrls() {
  const [list, reload] = useLoad(
    async () =>
      (await unwrap(api.GET("/api/postback-urls", {}))) as {
        items: Array<{ id: string; url: string; enabled: boolean; statuses: string[] }>;
      },
    [],
  );
  const [error, setError] = useState<ApiFailure | null>(null);
  return (
    <section>
      <h2>Postback URLs</h2>
      <form
        class="card form-inline"
        aria-label="Add a postback URL"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget as HTMLFormElement;
          setError(null);
          try {
            await unwrap(
              api.POST("/api/postback-urls", {
                body: { url: String(new FormData(form).get("url")) } as never,
              }),
            );
            form.reset();
            reload();
          } catch (err) {
            setError(asFailure(err));
          }
        }}
      >
        <label>
          URL (macros: {"{click_id} {payout} {status} {sub1}"}…)
          <input
            name="url"
            type="url"
            required
            placeholder="https://tracker.example/pb?cid={click_id}&p={payout}"
          />
        </label>
        <button type="submit">Add</button>
      </form>
      {error && <ErrorBox error={error} />}
      <Show value={list}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No postback URLs. Add one to tell your own tracker about approved conversions.</Empty>
          ) : (
            <Table
              caption="Postback URLs"
              head={["URL", "Fires on", "Enabled", ""]}
              rows={items.map((p) => [
                <code key="u" class="link">
                  {p.url}
                </code>,
                p.statuses.join(", "),
                p.enabled ? "yes" : "no",
                <CopyButton key="c" text={p.url} />,
              ])}
            />
          )
        }
      </Show>
    </section>
  );
}

export function WebhooksPage() {
  const role = currentUser()?.role;
  const [list, reload] = useLoad(
    async () => (await unwrap(api.GET("/api/webhooks", {}))) as { items: Endpoint[] },
    [],
  );
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>, done?: string) => {
    setError(null);
    setNote(null);
    try {
      await fn();
      if (done) setNote(done);
      reload();
    } catch (err) {
      setError(asFailure(err));
    }
  };
  return (
    <section>
      <h1>Webhooks</h1>
      {role !== "network_admin" && (
        <form
          class="card form-grid"
          aria-label="Add a webhook endpoint"
          onSubmit={(e) => {
            e.preventDefault();
            const form = e.currentTarget as HTMLFormElement;
            const data = new FormData(form);
            const events = EVENTS.filter((ev) => data.get(ev) === "on");
            void act(async () => {
              await unwrap(
                api.POST("/api/webhooks", {
                  body: {
                    url: String(data.get("url")),
                    events: events.length ? events : ["conversion.created"],
                  } as never,
                }),
              );
              form.reset();
            });
          }}
        >
          <h2>Add an endpoint</h2>
          <label>
            Endpoint URL
            <input name="url" type="url" required placeholder="https://example.com/webhooks/afftrack" />
          </label>
          <fieldset>
            <legend>Events</legend>
            {EVENTS.map((ev) => (
              <label key={ev} class="check">
                <input type="checkbox" name={ev} defaultChecked={ev.startsWith("conversion")} /> {ev}
              </label>
            ))}
          </fieldset>
          <div class="actions">
            <button type="submit">Add endpoint</button>
          </div>
        </form>
      )}
      {error && <ErrorBox error={error} />}
      {note && (
        <p class="notice" role="status">
          {note}
        </p>
      )}
      <Show value={list}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>
              No webhook endpoints. Add one above to receive conversions as they happen (Standard Webhooks,
              signed).
            </Empty>
          ) : (
            <ul class="endpoints">
              {items.map((w) => (
                <li key={w.id} class="card">
                  <div class="endpoint-head">
                    <code class="link">{w.url}</code>
                    <span class={`badge ${w.enabled ? (w.failing_since ? "failing" : "active") : "paused"}`}>
                      {w.enabled
                        ? w.failing_since
                          ? "failing"
                          : "enabled"
                        : `disabled${w.disabled_reason ? ` (${w.disabled_reason})` : ""}`}
                    </span>
                  </div>
                  <p class="muted">{w.events.join(", ")}</p>
                  <div class="actions">
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        act(
                          () =>
                            unwrap(api.POST("/api/webhooks/{id}/test", { params: { path: { id: w.id } } })),
                          "Test event queued.",
                        )
                      }
                    >
                      Send test
                    </button>
                    <button
                      type="button"
                      class="small secondary"
                      aria-expanded={open === w.id}
                      onClick={() => setOpen(open === w.id ? null : w.id)}
                    >
                      Delivery log
                    </button>
                    {!w.enabled && (
                      <button
                        type="button"
                        class="small secondary"
                        onClick={() =>
                          act(
                            () =>
                              unwrap(
                                api.PATCH("/api/webhooks/{id}", {
                                  params: { path: { id: w.id } },
                                  body: { enabled: true } as never,
                                }),
                              ),
                            "Endpoint re-enabled.",
                          )
                        }
                      >
                        Re-enable
                      </button>
                    )}
                    <button
                      type="button"
                      class="small danger"
                      onClick={() =>
                        act(() =>
                          unwrap(api.DELETE("/api/webhooks/{id}", { params: { path: { id: w.id } } })),
                        )
                      }
                    >
                      Delete
                    </button>
                  </div>
                  {open === w.id && <Deliveries endpoint={w} />}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      {role === "publisher" && <PostbackUrls />}
    </section>
  );
}
