// The shell: session gate, navigation per role, the range picker's state, and the routes.

import { useEffect, useState } from "preact/hooks";
import { LocationProvider, lazy, Route, Router, useLocation } from "preact-iso";
import { api, currentUser, logout, onSession, type Role, type SessionUser, unwrap } from "./api";
import { browserZone, type Range, RangeContext } from "./ui";

const Login = lazy(() => import("./pages/login").then((m) => m.LoginPage));
const Home = lazy(() => import("./pages/home").then((m) => m.HomePage));
const Offers = lazy(() => import("./pages/offers").then((m) => m.OffersPage));
const Links = lazy(() => import("./pages/links").then((m) => m.LinksPage));
const Conversions = lazy(() => import("./pages/conversions").then((m) => m.ConversionsPage));
const Webhooks = lazy(() => import("./pages/webhooks").then((m) => m.WebhooksPage));
const ApiKeys = lazy(() => import("./pages/api-keys").then((m) => m.ApiKeysPage));
const Fraud = lazy(() => import("./pages/fraud").then((m) => m.FraudPage));
const Live = lazy(() => import("./pages/live").then((m) => m.LivePage));
const Tracker = lazy(() => import("./pages/tracker").then((m) => m.TrackerPage));
const Applications = lazy(() => import("./pages/applications").then((m) => m.ApplicationsPage));

const NAV: Array<{ path: string; label: string; roles: Role[] }> = [
  { path: "/", label: "Home", roles: ["network_admin", "advertiser", "publisher"] },
  { path: "/offers", label: "Offers", roles: ["network_admin", "advertiser", "publisher"] },
  { path: "/applications", label: "Applications", roles: ["network_admin", "advertiser", "publisher"] },
  { path: "/links", label: "Links", roles: ["network_admin", "publisher"] },
  { path: "/conversions", label: "Conversions", roles: ["network_admin", "advertiser", "publisher"] },
  { path: "/webhooks", label: "Webhooks", roles: ["network_admin", "advertiser", "publisher"] },
  { path: "/api-keys", label: "API keys", roles: ["network_admin", "advertiser"] },
  { path: "/fraud", label: "Fraud", roles: ["network_admin", "advertiser"] },
  { path: "/live", label: "Live", roles: ["network_admin", "advertiser", "publisher"] },
  { path: "/brand", label: "Brand", roles: ["network_admin"] },
];

const ROLE_LABEL: Record<Role, string> = {
  network_admin: "Network admin",
  advertiser: "Advertiser",
  publisher: "Publisher",
};

function Shell({ user }: { user: SessionUser }) {
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const items = NAV.filter((n) => n.roles.includes(user.role));
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="/">
          AffTrack
        </a>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={open}
          aria-controls="nav"
          onClick={() => setOpen(!open)}
        >
          Menu
        </button>
        <nav id="nav" class={open ? "open" : ""} aria-label="Main">
          {items.map((n) => (
            <a
              key={n.path}
              href={n.path}
              aria-current={path === n.path ? "page" : undefined}
              onClick={() => setOpen(false)}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <div class="who">
          <span title={user.email}>
            {user.name ?? user.email} · {ROLE_LABEL[user.role]}
          </span>
          <button
            type="button"
            class="small"
            onClick={() => void logout().then(() => location.assign("/login"))}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        <Router>
          <Route path="/" component={Home} />
          <Route path="/offers" component={Offers} />
          <Route path="/applications" component={Applications} />
          <Route path="/links" component={Links} />
          <Route path="/conversions" component={Conversions} />
          <Route path="/webhooks" component={Webhooks} />
          <Route path="/api-keys" component={ApiKeys} />
          <Route path="/fraud" component={Fraud} />
          <Route path="/live" component={Live} />
          <Route path="/brand" component={Tracker} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <a href="/">Go to your home page</a>.
      </p>
    </section>
  );
}

function Gate() {
  const [user, setUser] = useState(currentUser());
  const { path, route } = useLocation();
  useEffect(() => onSession((s) => setUser(s?.user ?? null)), []);
  useEffect(() => {
    if (!user && path !== "/login") route(`/login?next=${encodeURIComponent(path)}`, true);
    if (user && path === "/login") route("/", true);
  }, [user, path, route]);
  if (!user || path === "/login")
    return (
      <main id="main" class="login-main">
        <Router>
          <Route path="/login" component={Login} />
          <Route default component={Login} />
        </Router>
      </main>
    );
  return <Shell user={user} />;
}

const ZONE_KEY = "afftrack.network_timezone";

async function networkZone(): Promise<string | null> {
  try {
    return ((await unwrap(api.GET("/api/network", {}))) as { timezone: string }).timezone;
  } catch {
    return null;
  }
}

function loadRange(): Range {
  try {
    const saved = JSON.parse(sessionStorage.getItem("afftrack.range") ?? "null") as Range | null;
    if (saved?.timezone) return saved;
  } catch {
    // a bad saved value: start fresh
  }
  return { interval: "7d", from: "", to: "", timezone: localStorage.getItem(ZONE_KEY) ?? browserZone };
}

export function App() {
  const [range, setRangeState] = useState<Range>(loadRange);
  const setRange = (r: Range) => {
    sessionStorage.setItem("afftrack.range", JSON.stringify(r));
    setRangeState(r);
  };
  // Until the user picks one, stats are shown in the network's time zone (GET /api/network, once
  // per browser: kept in localStorage so later visits start with it and make no extra call).
  useEffect(() => {
    const adopt = () => {
      // Logged out: forget it (the next user may belong to another network).
      if (!currentUser()) return localStorage.removeItem(ZONE_KEY);
      if (localStorage.getItem(ZONE_KEY)) return;
      void networkZone().then((tz) => {
        if (!tz) return;
        localStorage.setItem(ZONE_KEY, tz);
        if (!sessionStorage.getItem("afftrack.range")) setRangeState((r) => ({ ...r, timezone: tz }));
      });
    };
    adopt();
    return onSession(adopt);
  }, []);
  return (
    <LocationProvider>
      <RangeContext.Provider value={{ range, setRange }}>
        <Gate />
      </RangeContext.Provider>
    </LocationProvider>
  );
}
