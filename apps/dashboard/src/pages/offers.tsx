// Offers: advertisers and admins create, edit and pause them (geo rules, link TTL, who may join);
// publishers join open ones and get their tracking link, or apply to private ones.

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

interface Offer {
  id: string;
  advertiser_id: string;
  name: string;
  destination_url: string;
  status: "active" | "paused" | "archived";
  payout_type: "cpa" | "revshare";
  payout_amount: number;
  currency: string;
  allowed_countries: string[];
  blocked_countries: string[];
  link_ttl_seconds: number;
  fraud_rules?: { datacenter?: string };
  /** The manager's view. */
  visibility?: "public" | "private";
  accepts_applications?: boolean;
  /** A publisher's view. */
  joined?: boolean;
  can_join?: boolean;
  application_status?: "pending" | "approved" | "rejected" | null;
}

/** Who may join, as one choice: public, private (admitted publishers only), or private with applications. */
type Access = "public" | "private" | "apply";

const accessOf = (o: Offer | undefined): Access =>
  o?.visibility === "private" ? (o.accepts_applications ? "apply" : "private") : "public";

const ACCESS_LABEL: Record<Access, string> = {
  public: "Public",
  private: "Private (invited only)",
  apply: "Private, publishers apply",
};

const countries = (s: FormDataEntryValue | null) =>
  String(s ?? "")
    .split(/[\s,]+/)
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);

function offerBody(form: FormData) {
  return {
    name: String(form.get("name")),
    destination_url: String(form.get("destination_url")),
    payout_type: String(form.get("payout_type")) as "cpa" | "revshare",
    payout_amount: Number(form.get("payout_amount") || 0),
    currency: String(form.get("currency") || "USD").toUpperCase(),
    allowed_countries: countries(form.get("allowed_countries")),
    blocked_countries: countries(form.get("blocked_countries")),
    link_ttl_seconds: Math.round(Number(form.get("link_ttl_minutes") || 5) * 60),
    // Rules left out keep their value; the form edits the datacenter rule.
    fraud_rules: { datacenter: String(form.get("datacenter") || "flag") },
    visibility: form.get("access") === "public" ? ("public" as const) : ("private" as const),
    accepts_applications: form.get("access") === "apply",
  };
}

/** An uncontrolled select starting at `current` (Preact has no `defaultValue` for selects). */
function Choice({
  label,
  name,
  current,
  options,
}: {
  label: string;
  name: string;
  current: string;
  options: Array<[string, string]>;
}) {
  return (
    <label>
      {label}
      <select name={name}>
        {options.map(([value, text]) => (
          <option key={value} value={value} selected={value === current}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

function OfferForm({
  offer,
  onDone,
  advertisers,
}: {
  offer?: Offer;
  onDone: () => void;
  advertisers: Array<{ id: string; name: string }> | null;
}) {
  const [error, setError] = useState<ApiFailure | null>(null);
  const id = offer?.id ?? "new";
  return (
    <form
      class="card form-grid"
      aria-label={offer ? `Edit ${offer.name}` : "New offer"}
      onSubmit={async (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget as HTMLFormElement);
        setError(null);
        try {
          if (offer) {
            await unwrap(
              api.PATCH("/api/offers/{id}", {
                params: { path: { id: offer.id } },
                body: offerBody(form) as never,
              }),
            );
          } else {
            const advertiser_id = form.get("advertiser_id");
            await unwrap(
              api.POST("/api/offers", {
                body: {
                  ...offerBody(form),
                  ...(advertiser_id ? { advertiser_id: String(advertiser_id) } : {}),
                } as never,
              }),
            );
          }
          onDone();
        } catch (err) {
          setError(asFailure(err));
        }
      }}
    >
      <h2>{offer ? `Edit ${offer.name}` : "New offer"}</h2>
      {advertisers && !offer && (
        <label>
          Advertiser
          <select name="advertiser_id" required>
            {advertisers.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Name
        <input name="name" required maxLength={200} defaultValue={offer?.name ?? ""} id={`name-${id}`} />
      </label>
      <label>
        Destination URL
        <input
          name="destination_url"
          type="url"
          required
          defaultValue={offer?.destination_url ?? "https://"}
        />
      </label>
      <Choice
        label="Payout type"
        name="payout_type"
        current={offer?.payout_type ?? "cpa"}
        options={[
          ["cpa", "CPA (fixed per conversion)"],
          ["revshare", "Revenue share (%)"],
        ]}
      />
      <label>
        Payout
        <input
          name="payout_amount"
          type="number"
          min="0"
          step="0.01"
          defaultValue={String(offer?.payout_amount ?? 10)}
        />
      </label>
      <label>
        Currency
        <input name="currency" maxLength={3} defaultValue={offer?.currency ?? "USD"} />
      </label>
      <label>
        Allowed countries (e.g. US, CA; empty: all)
        <input name="allowed_countries" defaultValue={offer?.allowed_countries.join(", ") ?? ""} />
      </label>
      <label>
        Blocked countries
        <input name="blocked_countries" defaultValue={offer?.blocked_countries.join(", ") ?? ""} />
      </label>
      <label>
        Link TTL (minutes, 1–1440)
        <input
          name="link_ttl_minutes"
          type="number"
          min="1"
          max="1440"
          defaultValue={String((offer?.link_ttl_seconds ?? 300) / 60)}
        />
      </label>
      <Choice
        label="Who can join"
        name="access"
        current={accessOf(offer)}
        options={(["public", "private", "apply"] as const).map((a) => [a, ACCESS_LABEL[a]])}
      />
      <Choice
        label="Datacenter traffic (fraud rule)"
        name="datacenter"
        current={offer?.fraud_rules?.datacenter ?? "flag"}
        options={[
          ["off", "Count it"],
          ["flag", "Count, but flag it"],
          ["hold", "Hold its conversions"],
          ["reject", "Reject the click"],
        ]}
      />
      <div class="actions">
        <button type="submit">{offer ? "Save" : "Create offer"}</button>
        <button type="button" class="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

export function OffersPage() {
  const user = currentUser();
  const role = user?.role ?? "publisher";
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [actionError, setActionError] = useState<ApiFailure | null>(null);
  const [joined, setJoined] = useState<Record<string, { signed_link: string; tracking_code: string }>>({});
  const [offers, reload] = usePaged(
    async (cursor) =>
      (await unwrap(
        api.GET("/api/offers", {
          params: { query: { limit: "100", ...(cursor ? { cursor } : {}) } as never },
        }),
      )) as Page<Offer>,
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
  const canEdit = role !== "publisher";
  const setStatus = async (o: Offer, status: Offer["status"]) => {
    setActionError(null);
    try {
      await unwrap(
        api.PATCH("/api/offers/{id}", { params: { path: { id: o.id } }, body: { status } as never }),
      );
      reload();
    } catch (err) {
      setActionError(asFailure(err));
    }
  };
  const join = async (o: Offer) => {
    setActionError(null);
    try {
      const link = (await unwrap(api.POST("/api/offers/{id}/join", { params: { path: { id: o.id } } }))) as {
        signed_link: string;
        tracking_code: string;
      };
      setJoined({ ...joined, [o.id]: link });
    } catch (err) {
      setActionError(asFailure(err));
    }
  };
  const apply = async (o: Offer) => {
    setActionError(null);
    try {
      await unwrap(api.POST("/api/offers/{id}/apply", { params: { path: { id: o.id } }, body: {} }));
      reload();
    } catch (err) {
      setActionError(asFailure(err));
    }
  };
  return (
    <section>
      <div class="page-head">
        <h1>Offers</h1>
        {canEdit && !creating && (
          <button type="button" onClick={() => setCreating(true)}>
            New offer
          </button>
        )}
      </div>
      {creating && (
        <OfferForm
          advertisers={advertisers.state === "ok" ? advertisers.data : null}
          onDone={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      {actionError && <ErrorBox error={actionError} />}
      <Show value={offers}>
        {(paged) => {
          const items = paged.items;
          return items.length === 0 ? (
            <Empty>
              {canEdit
                ? "No offers yet. Create one with “New offer”: a name, where clicks go, and the payout."
                : "No offers open to you yet. Ask your network to make one public, invite you, or accept applications."}
            </Empty>
          ) : (
            <>
              <Table
                caption="Offers"
                head={[
                  "Offer",
                  "Status",
                  "Payout",
                  "Geo",
                  "Link TTL",
                  canEdit ? "Who can join" : "Access",
                  "",
                ]}
                rows={items.map((o) => [
                  <span key="n" data-offer={o.name}>
                    {o.name}
                  </span>,
                  <span key="s" class={`badge ${o.status}`}>
                    {o.status}
                  </span>,
                  o.payout_type === "cpa" ? `${o.payout_amount} ${o.currency}` : `${o.payout_amount}%`,
                  o.allowed_countries.length
                    ? `only ${o.allowed_countries.join(", ")}`
                    : o.blocked_countries.length
                      ? `not ${o.blocked_countries.join(", ")}`
                      : "all countries",
                  `${Math.round(o.link_ttl_seconds / 60)} min`,
                  canEdit ? ACCESS_LABEL[accessOf(o)] : <PublisherAccess key="x" offer={o} />,
                  canEdit ? (
                    <span key="a" class="actions">
                      <button
                        type="button"
                        class="small"
                        onClick={() => setEditing(o.id)}
                        aria-label={`Edit ${o.name}`}
                      >
                        Edit
                      </button>
                      {o.status === "active" ? (
                        <button
                          type="button"
                          class="small secondary"
                          onClick={() => setStatus(o, "paused")}
                          aria-label={`Pause ${o.name}`}
                        >
                          Pause
                        </button>
                      ) : (
                        <button
                          type="button"
                          class="small secondary"
                          onClick={() => setStatus(o, "active")}
                          aria-label={`Activate ${o.name}`}
                        >
                          Activate
                        </button>
                      )}
                    </span>
                  ) : joined[o.id] ? (
                    <span key="j" class="actions">
                      <code class="link" data-signed-link={o.id}>
                        {joined[o.id]?.signed_link}
                      </code>
                      <CopyButton text={joined[o.id]?.signed_link ?? ""} />
                    </span>
                  ) : o.can_join === false ? (
                    o.application_status ? null : (
                      <button
                        key="p"
                        type="button"
                        class="small"
                        onClick={() => apply(o)}
                        aria-label={`Apply to ${o.name}`}
                      >
                        Apply
                      </button>
                    )
                  ) : (
                    <button
                      key="j"
                      type="button"
                      class="small"
                      onClick={() => join(o)}
                      aria-label={o.joined ? `Get link for ${o.name}` : `Join ${o.name}`}
                    >
                      {o.joined ? "Get link" : "Join"}
                    </button>
                  ),
                ])}
              />
              <LoadMore list={paged} noun="offers" />
              {editing &&
                (() => {
                  const o = items.find((x) => x.id === editing);
                  return o ? (
                    <OfferForm
                      offer={o}
                      advertisers={null}
                      onDone={() => {
                        setEditing(null);
                        reload();
                      }}
                    />
                  ) : null;
                })()}
            </>
          );
        }}
      </Show>
    </section>
  );
}

/** A publisher's standing on an offer: joined, open to join, applied (pending / not approved), or apply. */
function PublisherAccess({ offer: o }: { offer: Offer }) {
  const [cls, text] = o.joined
    ? ["approved", "Joined"]
    : o.can_join !== false
      ? ["active", "Open"]
      : o.application_status === "pending"
        ? ["pending", "Pending"]
        : o.application_status === "rejected"
          ? ["rejected", "Not approved"]
          : ["", "Apply to join"];
  return (
    <span class={`badge ${cls}`} data-offer-access={text}>
      {text}
    </span>
  );
}
