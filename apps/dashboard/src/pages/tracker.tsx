// The brand's page (influencer tracker): products, each influencer's widget URL with a live preview
// and a test-event button, and counts per influencer and per campaign.

import { useState } from "preact/hooks";
import { type ApiFailure, api, unwrap } from "../api";
import {
  asFailure,
  CopyButton,
  Empty,
  ErrorBox,
  fmt,
  localDate,
  Show,
  Table,
  useLoad,
  useRange,
} from "../ui";

interface Product {
  id: string;
  customer_code: string;
  code: string;
  name: string;
  status: string;
}
interface Row {
  product_id: string;
  influencer_id: string;
  campaign: string | null;
  counted: number;
  filtered: number;
}

function sum(rows: Row[], key: (r: Row) => string): Array<[string, number, number]> {
  const m = new Map<string, [number, number]>();
  for (const r of rows) {
    const k = key(r);
    const v = m.get(k) ?? [0, 0];
    m.set(k, [v[0] + r.counted, v[1] + r.filtered]);
  }
  return [...m.entries()]
    .map(([k, [c, f]]) => [k, c, f] as [string, number, number])
    .sort((a, b) => b[1] - a[1]);
}

function ProductCard({ product, rows }: { product: Product; rows: Row[] }) {
  const influencers = sum(rows, (r) => r.influencer_id);
  const [influencer, setInfluencer] = useState(influencers[0]?.[0] ?? "");
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [preview, setPreview] = useState(0);
  const widgetPath = influencer
    ? `/w/${product.customer_code}/${product.code}/${encodeURIComponent(influencer)}`
    : "";
  const widgetUrl = widgetPath ? new URL(widgetPath, location.href).toString() : "";
  return (
    <li class="card">
      <h2>
        {product.name} <span class="muted">({product.code})</span>
      </h2>
      <label>
        Influencer code
        <input
          value={influencer}
          onInput={(e) => setInfluencer((e.target as HTMLInputElement).value.trim())}
          placeholder="e.g. streamer42"
        />
      </label>
      {widgetUrl ? (
        <>
          <p>
            Widget URL (an OBS browser source): <code class="link">{widgetUrl}</code>{" "}
            <CopyButton text={widgetUrl} />
          </p>
          <div class="actions">
            <button
              type="button"
              class="small"
              onClick={async () => {
                setError(null);
                try {
                  const r = (await unwrap(
                    api.POST("/api/tracker/products/{id}/test-event", {
                      params: { path: { id: product.id } },
                      body: { influencer_id: influencer, event_name: "Test event" },
                    }),
                  )) as { delivered: number };
                  setNote(`Test event sent to ${r.delivered} connected widget(s).`);
                } catch (err) {
                  setError(asFailure(err));
                }
              }}
            >
              Send a test event
            </button>
            <button type="button" class="small secondary" onClick={() => setPreview(preview + 1)}>
              Reload preview
            </button>
          </div>
          {note && (
            <p class="notice" role="status">
              {note}
            </p>
          )}
          {error && <ErrorBox error={error} />}
          <iframe
            key={preview}
            class="widget-preview"
            title={`Widget preview for ${influencer}`}
            src={widgetPath}
          />
        </>
      ) : (
        <Empty>Type an influencer's code to get their widget URL.</Empty>
      )}
      <div class="two-col">
        <section>
          <h3>Per influencer</h3>
          {influencers.length === 0 ? (
            <Empty>
              No events in the last 30 days. Send events to your tracker endpoint with an access key.
            </Empty>
          ) : (
            <Table
              caption={`${product.name} per influencer`}
              head={["Influencer", "Counted", "Filtered"]}
              rows={influencers.map(([k, c, f]) => [k, fmt(c), fmt(f)])}
            />
          )}
        </section>
        <section>
          <h3>Per campaign</h3>
          {rows.length === 0 ? (
            <Empty>No campaigns yet.</Empty>
          ) : (
            <Table
              caption={`${product.name} per campaign`}
              head={["Campaign", "Counted", "Filtered"]}
              rows={sum(rows, (r) => r.campaign ?? "(none)").map(([k, c, f]) => [k, fmt(c), fmt(f)])}
            />
          )}
        </section>
      </div>
    </li>
  );
}

export function TrackerPage() {
  const { range } = useRange();
  const [data] = useLoad(async () => {
    const to = localDate(range.timezone, new Date(Date.now() + 86_400_000));
    const from = localDate(range.timezone, new Date(Date.now() - 30 * 86_400_000));
    const [products, stats] = await Promise.all([
      unwrap(api.GET("/api/tracker/products", { params: { query: { limit: "100" } as never } })) as Promise<{
        items: Product[];
      }>,
      unwrap(
        api.GET("/api/tracker/stats", { params: { query: { from, to, timezone: range.timezone } as never } }),
      ) as Promise<{ rows: Row[] }>,
    ]);
    return { products: products.items, rows: stats.rows };
  }, [range.timezone]);
  return (
    <section>
      <h1>Brand: influencer tracker</h1>
      <Show value={data}>
        {({ products, rows }) =>
          products.length === 0 ? (
            <Empty>
              No tracker products yet. Create a customer and a product with the API (POST
              /api/tracker/customers, /api/tracker/products) or `pnpm demo`.
            </Empty>
          ) : (
            <ul class="products">
              {products.map((p) => (
                <ProductCard key={p.id} product={p} rows={rows.filter((r) => r.product_id === p.id)} />
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
