// Applications to private offers: advertisers and network admins approve (the publisher is admitted
// and may join) or reject them; publishers follow their own.

import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type ApiFailure, api, currentUser, unwrap } from "../api";
import { asFailure, Empty, ErrorBox, LoadMore, type Page, Show, Table, usePaged } from "../ui";

interface Application {
  id: string;
  offer_id: string;
  offer_name: string;
  publisher_name: string;
  status: "pending" | "approved" | "rejected";
  message: string | null;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
}

/** The status of one application, with Approve / Reject while it is pending. */
function Decision({ application }: { application: Application }) {
  const [app, setApp] = useState(application);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure | null>(null);
  const decide = async (status: "approved" | "rejected") => {
    setBusy(true);
    setError(null);
    try {
      setApp(
        (await unwrap(
          api.POST("/api/applications/{id}/status", { params: { path: { id: app.id } }, body: { status } }),
        )) as Application,
      );
    } catch (err) {
      setError(asFailure(err));
    } finally {
      setBusy(false);
    }
  };
  const who = `${app.publisher_name} to ${app.offer_name}`;
  return (
    <div class="row-actions">
      <span class={`badge ${app.status}`} data-application-status={app.status}>
        {app.status}
      </span>
      {app.status === "pending" && currentUser()?.role !== "publisher" && (
        <>
          <button
            type="button"
            class="small"
            disabled={busy}
            aria-label={`Approve ${who}`}
            onClick={() => void decide("approved")}
          >
            Approve
          </button>
          <button
            type="button"
            class="small danger"
            disabled={busy}
            aria-label={`Reject ${who}`}
            onClick={() => void decide("rejected")}
          >
            Reject
          </button>
        </>
      )}
      {error && <ErrorBox error={error} />}
    </div>
  );
}

export function ApplicationsPage() {
  const role = currentUser()?.role;
  const [status, setStatus] = useState(useLocation().query.status ?? (role === "publisher" ? "" : "pending"));
  const [list] = usePaged(
    async (cursor) =>
      (await unwrap(
        api.GET("/api/applications", {
          params: {
            query: { limit: "100", ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } as never,
          },
        }),
      )) as Page<Application>,
    [status],
  );
  return (
    <section>
      <div class="page-head">
        <h1>Applications</h1>
        <label>
          Status
          <select
            aria-label="Status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="pending">Pending</option>
            <option value="approved">Approved</option>
            <option value="rejected">Rejected</option>
            <option value="">All</option>
          </select>
        </label>
      </div>
      <p class="muted">
        {role === "publisher"
          ? "Your applications to private offers. Apply from the Offers page; once approved, join the offer there."
          : "Publishers apply to your private offers that accept applications. Approving one lets the publisher join the offer and count clicks; rejecting is final."}
      </p>
      <Show value={list}>
        {(paged) =>
          paged.items.length === 0 ? (
            <Empty>
              {role === "publisher"
                ? "No applications. Offers marked “Apply to join” on the Offers page take one."
                : `No ${status || ""} applications. To receive some, set an offer's “Who can join” to “Private, publishers apply”.`}
            </Empty>
          ) : (
            <>
              <Table
                caption="Applications"
                head={["Applied", "Publisher", "Offer", "Message", "Status"]}
                rows={paged.items.map((a) => [
                  new Date(a.created_at).toLocaleString(),
                  a.publisher_name,
                  a.offer_name,
                  a.message ?? (a.reason ? `Reason: ${a.reason}` : "—"),
                  <Decision key={`d-${a.id}`} application={a} />,
                ])}
              />
              <LoadMore list={paged} noun="applications" />
            </>
          )
        }
      </Show>
    </section>
  );
}
