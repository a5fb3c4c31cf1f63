// Conversions with their status, filtered by status; the newest first.

import { useState } from "preact/hooks";
import { type ApiFailure, api, currentUser, ApiFailure as Failure, unwrap } from "../api";
import {
  asFailure,
  Empty,
  ErrorBox,
  RangePicker,
  rangeInstants,
  Show,
  Table,
  useLoad,
  useOfferNames,
  useRange,
} from "../ui";

type Conversion = Record<string, unknown> & { id: string; status: string };

export function ConversionsPage() {
  const role = currentUser()?.role;
  const [status, setStatus] = useState("");
  const offerNames = useOfferNames();
  const { range } = useRange();
  const [exportError, setExportError] = useState<ApiFailure | null>(null);
  const download = async (kind: "clicks" | "conversions") => {
    setExportError(null);
    try {
      const path = kind === "clicks" ? "/api/exports/clicks.csv" : "/api/exports/conversions.csv";
      const { data, error, response } = await api.GET(path, {
        params: { query: rangeInstants(range) as never },
        parseAs: "blob",
      });
      if (!response.ok || !data) {
        const body = (error ?? {}) as { error?: string; code?: string; request_id?: string };
        throw new Failure(
          body.error ?? `Export failed (HTTP ${response.status})`,
          body.code ?? "EXPORT",
          response.status,
          body.request_id ?? response.headers.get("x-request-id"),
        );
      }
      const a = document.createElement("a");
      a.href = URL.createObjectURL(data as Blob);
      a.download = `${kind}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      setExportError(asFailure(err));
    }
  };
  const [list] = useLoad(
    async () =>
      (await unwrap(
        api.GET("/api/events", {
          params: { query: { type: "conversions", limit: "100", ...(status ? { status } : {}) } as never },
        }),
      )) as unknown as { items: Conversion[] },
    [status],
  );
  return (
    <section>
      <div class="page-head">
        <h1>Conversions</h1>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">All</option>
            <option value="pending">Pending</option>
            <option value="approved">Approved</option>
            <option value="rejected">Rejected</option>
          </select>
        </label>
      </div>
      <section class="card form-inline" aria-label="Export">
        <RangePicker />
        <button type="button" class="secondary" onClick={() => download("conversions")}>
          Export conversions (CSV)
        </button>
        <button type="button" class="secondary" onClick={() => download("clicks")}>
          Export clicks (CSV)
        </button>
      </section>
      {exportError && <ErrorBox error={exportError} />}
      {role !== "publisher" && (
        <p class="muted">
          Approve or reject a pending conversion from your server with{" "}
          <code>POST /api/conversions/status</code> (your API key; see the SDK's{" "}
          <code>updateConversionStatus</code>). Changes show here and in the live feed.
        </p>
      )}
      <Show value={list}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>
              No conversions {status ? `with status ${status} ` : ""}yet. They arrive through postbacks (
              <code>POST /api/postback</code>) or the SDK after a click on a tracking link.
            </Empty>
          ) : (
            <Table
              caption="Conversions"
              head={[
                "When",
                "Transaction",
                "Offer",
                "Status",
                role === "publisher" ? "Payout" : "Amount",
                "Payout",
              ]}
              rows={items.map((c) => [
                new Date(String(c.created_at)).toLocaleString(),
                <code key="t">{String(c.transaction_id ?? c.id)}</code>,
                offerNames.get(String(c.offer_id)) ?? String(c.offer_id ?? ""),
                <span key="s" class={`badge ${c.status}`} data-conversion-status={c.status}>
                  {c.status}
                </span>,
                role === "publisher"
                  ? `${c.payout ?? ""} ${c.payout_currency ?? ""}`
                  : `${c.amount ?? ""} ${c.currency ?? ""}`,
                `${c.payout ?? ""} ${c.payout_currency ?? ""}`,
              ])}
            />
          )
        }
      </Show>
    </section>
  );
}
