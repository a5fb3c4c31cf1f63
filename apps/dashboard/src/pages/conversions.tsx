// Conversions with their status, filtered by status; the newest first.

import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type ApiFailure, api, currentUser, ApiFailure as Failure, unwrap } from "../api";
import {
  asFailure,
  Empty,
  ErrorBox,
  LoadMore,
  type Page,
  RangePicker,
  rangeInstants,
  Show,
  Table,
  useOfferNames,
  usePaged,
  useRange,
} from "../ui";

type Conversion = Record<string, unknown> & { id: string; status: string };

/** The changes a manager may make from each status (rejected is final), as the API allows them. */
const NEXT: Record<string, Array<{ to: "approved" | "rejected"; label: string }>> = {
  pending: [
    { to: "approved", label: "Approve" },
    { to: "rejected", label: "Reject" },
  ],
  approved: [{ to: "rejected", label: "Reverse" }],
};

/** Approve / reject buttons of one conversion; the new status shows in place. */
function StatusActions({ conversion }: { conversion: Conversion }) {
  const [status, setStatus] = useState(conversion.status);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure | null>(null);
  const change = async (to: "approved" | "rejected") => {
    if (to === "rejected" && status === "approved" && !confirm("Reverse this approved conversion?")) return;
    setBusy(true);
    setError(null);
    try {
      const data = await unwrap(
        api.POST("/api/conversions/{id}/status", {
          params: { path: { id: conversion.id } },
          body: { status: to },
        }),
      );
      setStatus(data.status);
    } catch (err) {
      setError(asFailure(err));
    } finally {
      setBusy(false);
    }
  };
  const ref = String(conversion.transaction_id ?? conversion.id);
  return (
    <div class="row-actions">
      <span class={`badge ${status}`} data-conversion-status={status}>
        {status}
      </span>
      {(NEXT[status] ?? []).map((a) => (
        <button
          key={a.to}
          type="button"
          class={a.to === "rejected" ? "small danger" : "small"}
          disabled={busy}
          aria-label={`${a.label} conversion ${ref}`}
          data-status-action={a.to}
          onClick={() => void change(a.to)}
        >
          {a.label}
        </button>
      ))}
      {error && <ErrorBox error={error} />}
    </div>
  );
}

export function ConversionsPage() {
  const role = currentUser()?.role;
  // A task on the home links here with ?status=pending.
  const [status, setStatus] = useState(useLocation().query.status ?? "");
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
  const [list] = usePaged(
    async (cursor) =>
      (await unwrap(
        api.GET("/api/events", {
          params: {
            query: {
              type: "conversions",
              limit: "100",
              ...(status ? { status } : {}),
              ...(cursor ? { cursor } : {}),
            } as never,
          },
        }),
      )) as unknown as Page<Conversion>,
    [status],
  );
  return (
    <section>
      <div class="page-head">
        <h1>Conversions</h1>
        <label>
          Status
          <select
            aria-label="Status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}
          >
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
          Approve or reject a pending conversion here, or from your server with{" "}
          <code>POST /api/conversions/status</code> (your API key; the SDK's{" "}
          <code>updateConversionStatus</code>). An approval can be reversed; a rejection is final. Changes
          reach your webhooks and the live feed.
        </p>
      )}
      <Show value={list}>
        {(paged) =>
          paged.items.length === 0 ? (
            <Empty>
              No conversions {status ? `with status ${status} ` : ""}yet. They arrive through postbacks (
              <code>POST /api/postback</code>) or the SDK after a click on a tracking link.
            </Empty>
          ) : (
            <>
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
                rows={paged.items.map((c) => [
                  new Date(String(c.created_at)).toLocaleString(),
                  <code key="t">{String(c.transaction_id ?? c.id)}</code>,
                  offerNames.get(String(c.offer_id)) ?? String(c.offer_id ?? ""),
                  role === "publisher" ? (
                    <span key="s" class={`badge ${c.status}`} data-conversion-status={c.status}>
                      {c.status}
                    </span>
                  ) : (
                    <StatusActions key={`s-${c.id}`} conversion={c} />
                  ),
                  role === "publisher"
                    ? `${c.payout ?? ""} ${c.payout_currency ?? ""}`
                    : `${c.amount ?? ""} ${c.currency ?? ""}`,
                  `${c.payout ?? ""} ${c.payout_currency ?? ""}`,
                ])}
              />
              <LoadMore list={paged} noun="conversions" />
            </>
          )
        }
      </Show>
    </section>
  );
}
