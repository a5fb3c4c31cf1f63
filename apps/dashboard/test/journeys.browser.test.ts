// The dashboard in Debian's Chromium (playwright-core), served as Workers Static Assets by the
// dashboard worker in the local stack (its /api/* handed to the API worker): a journey per role
// (advertiser creates an offer and a webhook endpoint, publisher joins it and gets a signed link,
// the click arrives in the live feed and the chart, a conversion is posted and the advertiser
// approves it in the UI, the webhook shows in the delivery log; lists page past 100 rows), axe-core on every page (no serious
// or critical violations), and a screenshot of each home in .dev/screenshots/ (not committed).

import { readFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createIngestClient } from "@afftrack/sdk";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../../packages/devstack/src/build-workers";
import { launchChromium } from "../../../tests/browser";
import { call, PASSWORD, pathOf, uniqueEmail } from "../../../tests/management-helpers";
import {
  BROWSER_UA,
  clickIdOf,
  conversionRowOn,
  nextIp,
  startTestStack,
  type TestStack,
  waitFor,
} from "../../../tests/support";
import { createProduct, uniqueCode } from "../../../tests/tracker-helpers";
import { DASHBOARD_WORKER, dashboardWorker } from "../scripts/local-worker";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const shots = path.join(repoRoot, ".dev/screenshots");

let stack: TestStack;
let dashboardUrl: string;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
const hooks: Array<{ event: string }> = [];
const users = { admin: "", advertiser: "", publisher: "" };
let advertiserId = "";
let tenantId = "";
const offerName = `Spring sale ${Date.now().toString(36)}`;
let signedLink = "";
let clickId = "";
let productName = "";

// biome-ignore lint/suspicious/noExplicitAny: response bodies differ per endpoint
async function ok(p: Promise<{ status: number; body: any; text: string }>, status: number): Promise<any> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text}`);
  return r.body.data;
}

beforeAll(async () => {
  stack = await startTestStack({ extraWorkers: [await dashboardWorker()] });
  dashboardUrl = (await stack.mf.unsafeGetDirectURL(DASHBOARD_WORKER)).toString().replace(/\/$/, "");

  // A network with an advertiser user and a publisher user, made through the API.
  users.admin = uniqueEmail("admin");
  const reg = await ok(
    call(stack, "POST", "/api/auth/register", {
      body: { network_name: "Dash Net", email: users.admin, password: PASSWORD, name: "Ada Admin" },
    }),
    201,
  );
  const admin = reg.access_token as string;
  tenantId = reg.user.tenant_id;
  advertiserId = (
    await ok(call(stack, "POST", "/api/advertisers", { token: admin, body: { name: "Acme Shoes" } }), 201)
  ).id;
  const publisherId = (
    await ok(call(stack, "POST", "/api/publishers", { token: admin, body: { name: "Deal Blog" } }), 201)
  ).id;
  for (const role of ["advertiser", "publisher"] as const) {
    users[role] = uniqueEmail(role);
    const invite = await ok(
      call(stack, "POST", "/api/invitations", {
        token: admin,
        body: {
          email: users[role],
          role,
          [`${role}_id`]: role === "advertiser" ? advertiserId : publisherId,
        },
      }),
      201,
    );
    await ok(
      call(stack, "POST", "/api/auth/accept-invite", {
        body: { invite_token: invite.invite_token, password: PASSWORD },
      }),
      201,
    );
  }

  // A brand (influencer-tracker customer) with one product, for the brand page.
  const customer = await ok(
    call(stack, "POST", "/api/tracker/customers", {
      token: admin,
      body: { name: "Brand", customer_code: uniqueCode("brand") },
    }),
    201,
  );
  productName = `Sign-ups ${uniqueCode("p")}`;
  await createProduct(stack, admin, customer.id, { name: productName });

  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      try {
        hooks.push(JSON.parse(body) as { event: string });
      } catch {
        hooks.push({ event: "unparsable" });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  await mkdir(shots, { recursive: true });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (receiver) await new Promise((r) => receiver.close(r));
  await stack?.close();
});

/** axe-core in the page: no serious or critical violation. */
async function expectAccessible(page: Page, what: string) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected as a global
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return (result.violations as Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>)
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations, `axe on ${what}`).toEqual([]);
}

async function logIn(
  email: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, timezoneId: "UTC" });
  const page = await context.newPage();
  await page.goto(`${dashboardUrl}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { level: 1, name: /home/ }).waitFor();
  return { context, page };
}

async function visit(page: Page, pathName: string, heading: RegExp) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: pathName }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  await page
    .locator("[aria-busy=true]")
    .first()
    .waitFor({ state: "detached", timeout: 15_000 })
    .catch(() => undefined);
}

describe("dashboard journeys", () => {
  it("serves the SPA with its fallback, and /api through the same origin", async () => {
    const deep = await fetch(`${dashboardUrl}/offers`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="app">');
    const me = await fetch(`${dashboardUrl}/api/auth/me`);
    expect(me.status).toBe(401);
    expect(((await me.json()) as { code: string }).code).toBe("UNAUTHORIZED");
  });

  it("login page: accessible, a wrong password shows the API's message and request id", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${dashboardUrl}/login`);
    await page.getByRole("heading", { name: "Log in to AffTrack" }).waitFor();
    await expectAccessible(page, "login");
    await page.getByLabel("Email").fill(users.advertiser);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Invalid email or password.*UNAUTHORIZED.*request id req_/);
    await page.screenshot({ path: path.join(shots, "login.png") });
    await context.close();
  });

  it("session: an expired access token is refreshed (once, single-use), a bad one is refreshed on 401, a dead session logs out", async () => {
    const { context, page } = await logIn(users.advertiser);
    const stored = () =>
      page.evaluate(() => JSON.parse(localStorage.getItem("afftrack.session") ?? "null")) as Promise<{
        access_token: string;
        refresh_token: string;
        expires_at: number;
      } | null>;
    const first = await stored();
    expect(first?.refresh_token).toBeTruthy();
    // Expired: refreshed before the first call.
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("afftrack.session") ?? "{}");
      localStorage.setItem("afftrack.session", JSON.stringify({ ...s, expires_at: 0 }));
    });
    await page.reload();
    await page.getByTestId("kpis").waitFor();
    const second = await stored();
    expect(second?.refresh_token).not.toBe(first?.refresh_token);
    expect(second?.expires_at).toBeGreaterThan(Date.now());
    // Rejected by the API (401): refreshed and retried.
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("afftrack.session") ?? "{}");
      localStorage.setItem("afftrack.session", JSON.stringify({ ...s, access_token: "not-a-jwt" }));
    });
    await page.reload();
    await page.getByTestId("kpis").waitFor();
    expect((await stored())?.refresh_token).not.toBe(second?.refresh_token);
    // Neither token works: back to the login page.
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("afftrack.session") ?? "{}");
      localStorage.setItem(
        "afftrack.session",
        JSON.stringify({ ...s, access_token: "x", refresh_token: "y" }),
      );
    });
    await page.reload();
    await page.waitForURL(/\/login/);
    expect(await stored()).toBeNull();
    await context.close();
  });

  it("advertiser: home, creates an offer with geo rules and TTL, pauses it again, adds a webhook endpoint", async () => {
    const { context, page } = await logIn(users.advertiser);
    await page.getByTestId("kpis").waitFor();
    await expectAccessible(page, "advertiser home");
    await page.screenshot({ path: path.join(shots, "home-advertiser.png"), fullPage: true });

    await visit(page, "Offers", /Offers/);
    await expect(page.getByText(/No offers yet/).isVisible()).resolves.toBe(true);
    await page.getByRole("button", { name: "New offer" }).click();
    const form = page.getByRole("form", { name: "New offer" });
    await form.getByLabel("Name").fill(offerName);
    await form.getByLabel("Destination URL").fill("https://shop.example/landing?click_id={click_id}");
    await form.getByLabel("Payout", { exact: true }).fill("4.5");
    await form.getByLabel(/Blocked countries/).fill("ru, by");
    await form.getByLabel(/Link TTL/).fill("30");
    await form.getByLabel(/Datacenter traffic/).selectOption("hold");
    // A value the API refuses: its message, code and request id are shown, nothing is created.
    await form.getByLabel(/Allowed countries/).fill("USA");
    await form.getByRole("button", { name: "Create offer" }).click();
    const refusal = form.getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/INVALID_PARAMS · HTTP 400 · request id req_/);
    await form.getByLabel(/Allowed countries/).fill("");
    await expectAccessible(page, "offer form");
    await form.getByRole("button", { name: "Create offer" }).click();
    const row = page.getByRole("row").filter({ hasText: offerName });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/active.*4\.5 USD.*not RU, BY.*30 min/);
    // Pause and activate: the status badge follows the API.
    await page.getByRole("button", { name: `Pause ${offerName}` }).click();
    await row.getByText("paused").waitFor();
    await page.getByRole("button", { name: `Activate ${offerName}` }).click();
    await row.getByText("active").waitFor();
    // Edit: the form shows what the API stored (fraud rule included) and saves a new TTL.
    await page.getByRole("button", { name: `Edit ${offerName}` }).click();
    const edit = page.getByRole("form", { name: `Edit ${offerName}` });
    expect(await edit.getByLabel(/Datacenter traffic/).inputValue()).toBe("hold");
    await edit.getByLabel(/Link TTL/).fill("45");
    await edit.getByRole("button", { name: "Save" }).click();
    await row.filter({ hasText: "45 min" }).waitFor();
    await expectAccessible(page, "offers");

    await visit(page, "Webhooks", /Webhooks/);
    await page.getByLabel("Endpoint URL").fill(receiverUrl);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByText(receiverUrl).waitFor();
    await expectAccessible(page, "webhooks");

    await visit(page, "API keys", /API keys/);
    await expectAccessible(page, "api keys");
    await visit(page, "Fraud", /Fraud/);
    await expectAccessible(page, "fraud");
    await context.close();
  });

  it("publisher: joins the offer, signs a link, the click arrives in the live feed and the chart", async () => {
    const { context, page } = await logIn(users.publisher);
    await page.getByTestId("kpis").waitFor();
    await expectAccessible(page, "publisher home");
    await page.screenshot({ path: path.join(shots, "home-publisher.png"), fullPage: true });

    await visit(page, "Offers", /Offers/);
    await page.getByRole("button", { name: `Join ${offerName}` }).click();
    const joined = page.locator("[data-signed-link]");
    await joined.waitFor();
    expect(await joined.textContent()).toMatch(/\/c\//);

    await visit(page, "Links", /Tracking links/);
    await expectAccessible(page, "links");
    await page.getByRole("button", { name: "Sign a link" }).click();
    signedLink = String(await page.getByTestId("signed-link").textContent());
    expect(signedLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/c\/.+/);

    await visit(page, "Live", /Live feed/);
    await page.locator('[data-live-state="live"]').waitFor({ timeout: 15_000 });
    await expectAccessible(page, "live feed");
    // A visitor opens the signed link at the edge (its redirect target is not reachable here).
    const res = await stack.mf.dispatchFetch(new URL(pathOf(signedLink), stack.edgeUrl), {
      redirect: "manual",
      headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": nextIp() },
    });
    expect(res.status).toBe(302);
    clickId = clickIdOf(res.headers.get("location"));
    await page.locator('[data-event="click"]', { hasText: clickId }).waitFor({ timeout: 20_000 });

    // The home chart over the last 24 hours shows it (rollups are written by the consumer).
    await visit(page, "Home", /home/);
    await page.getByLabel("Range", { exact: true }).selectOption("24h");
    await waitFor(
      async () => {
        const chart = page.locator("figure.chart");
        if (
          (await chart.count()) > 0 &&
          /Clicks [1-9]/.test((await chart.first().locator("[role=img]").getAttribute("aria-label")) ?? "")
        )
          return true;
        await page.reload();
        await page.getByRole("heading", { level: 1, name: /home/ }).waitFor();
        return false;
      },
      20_000,
      "the click in the home chart",
    );
    await expectAccessible(page, "publisher home with chart");
    await context.close();
  });

  it("advertiser: a posted conversion, approved, shows with its status and in the webhook delivery log", async () => {
    const key = await ok(
      call(stack, "POST", "/api/api-keys", {
        token: (
          await ok(
            call(stack, "POST", "/api/auth/login", { body: { email: users.advertiser, password: PASSWORD } }),
            200,
          )
        ).access_token,
        body: {},
      }),
      201,
    );
    const ingest = createIngestClient({ baseUrl: stack.apiUrl, apiKey: key.key, advertiserId });
    const offers = await ok(
      call(stack, "GET", "/api/offers", {
        token: (
          await ok(
            call(stack, "POST", "/api/auth/login", { body: { email: users.advertiser, password: PASSWORD } }),
            200,
          )
        ).access_token,
      }),
      200,
    );
    const offer = (offers.items as Array<{ id: string; name: string }>).find((o) => o.name === offerName);
    const orderId = `order-${Date.now()}`;
    const posted = await ingest.postback({
      offer_id: offer?.id ?? "",
      transaction_id: orderId,
      click_id: clickId,
      amount: 80,
      currency: "USD",
      status: "pending",
    } as never);
    expect(posted.ok, JSON.stringify(posted)).toBe(true);
    const conversionId = (posted as { data: { conversion_id: string } }).data.conversion_id;

    // Approved in the UI with the advertiser's session (no API key).
    const { context, page } = await logIn(users.advertiser);
    await visit(page, "Conversions", /Conversions/);
    const convRow = page.getByRole("row").filter({ hasText: orderId });
    await convRow.locator('[data-conversion-status="pending"]').waitFor();
    await expectAccessible(page, "conversions with a pending one");
    await page.getByRole("button", { name: `Approve conversion ${orderId}` }).click();
    await convRow.locator('[data-conversion-status="approved"]').waitFor();
    // An approval can be reversed, so the row now offers that, and the API agrees.
    await page.getByRole("button", { name: `Reverse conversion ${orderId}` }).waitFor();
    const history = await stack.db
      .selectFrom("conversion_status_history")
      .select(["to_status", "source"])
      .where("conversion_id", "=", conversionId)
      .orderBy("id")
      .execute();
    expect(history).toEqual([
      { to_status: "pending", source: "postback" },
      { to_status: "approved", source: "dashboard" },
    ]);
    await page.reload();
    await convRow.locator('[data-conversion-status="approved"]').waitFor();
    await expectAccessible(page, "conversions");
    // The CSV export of the chosen range, downloaded with the session's token.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export conversions (CSV)" }).click(),
    ]);
    const csv = await readFile(String(await download.path()), "utf8");
    expect(csv.split("\n")[0]).toContain("transaction_id");
    expect(csv).toContain(orderId);

    await waitFor(
      async () => hooks.some((h) => h.event === "conversion.updated"),
      20_000,
      "the webhook delivery",
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; received: ${JSON.stringify(hooks)}`);
    });
    await visit(page, "Webhooks", /Webhooks/);
    await page.getByRole("button", { name: "Delivery log" }).click();
    await page.locator("[data-delivery-event]", { hasText: "conversion.updated" }).first().waitFor();
    expect(await page.locator("[data-deliveries]").textContent()).toMatch(/succeeded/);
    await page.getByRole("button", { name: "Send test" }).click();
    await page.getByRole("status").filter({ hasText: "Test event queued." }).waitFor();
    await expectAccessible(page, "webhook delivery log");

    // The same home on a phone-sized screen: the menu folds, KPI cards stack.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("button", { name: "Menu" }).click();
    await visit(page, "Home", /home/);
    await page.getByTestId("kpis").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    expect(overflow).toBe(false);
    await page.screenshot({ path: path.join(shots, "home-advertiser-phone.png"), fullPage: true });
    await context.close();
  });

  it("network admin: home with KPI comparisons and tasks, fraud, brand, live", async () => {
    const { context, page } = await logIn(users.admin);
    await page.getByTestId("kpis").waitFor();
    await page.getByRole("region", { name: "Tasks" }).waitFor();
    const month = page.getByRole("region", { name: "This month vs last month" });
    expect(await month.locator('[data-kpi="Clicks"] .kpi-value').textContent()).toMatch(/^[1-9]/);
    await expectAccessible(page, "admin home");
    await page.screenshot({ path: path.join(shots, "home-admin.png"), fullPage: true });
    for (const [link, heading] of [
      ["Offers", /Offers/],
      ["Conversions", /Conversions/],
      ["Fraud", /Fraud/],
      ["Brand", /Brand/],
      ["Live", /Live feed/],
    ] as const) {
      await visit(page, link, heading);
      await expectAccessible(page, `admin ${link}`);
    }

    // The brand page: an influencer's widget URL, its live preview (through the same origin), and
    // a test event that reaches the preview's socket.
    await visit(page, "Brand", /Brand/);
    const card = page.getByRole("listitem").filter({ hasText: productName });
    await card.getByLabel("Influencer code").fill("streamer42");
    const preview = page.frameLocator('iframe[title="Widget preview for streamer42"]');
    await preview.locator("body").waitFor();
    await waitFor(
      async () => {
        await card.getByRole("button", { name: "Send a test event" }).click();
        const note = card.getByRole("status");
        await note.waitFor();
        return /sent to [1-9]/.test((await note.textContent()) ?? "");
      },
      15_000,
      "the preview widget to receive the test event",
    );
    await expectAccessible(page, "brand page with preview");
    await page.screenshot({ path: path.join(shots, "home-brand.png"), fullPage: true });
    await context.close();
  });

  it("applications: a publisher applies to a private offer, the advertiser approves from the home task, the publisher joins", async () => {
    const advToken = (
      await ok(
        call(stack, "POST", "/api/auth/login", { body: { email: users.advertiser, password: PASSWORD } }),
        200,
      )
    ).access_token;
    const vip = `VIP deals ${Date.now().toString(36)}`;
    await ok(
      call(stack, "POST", "/api/offers", {
        token: advToken,
        body: {
          name: vip,
          destination_url: "https://shop.example/vip",
          payout_amount: 9,
          visibility: "private",
          accepts_applications: true,
        },
      }),
      201,
    );

    const pub = await logIn(users.publisher);
    await visit(pub.page, "Offers", /Offers/);
    const row = pub.page.getByRole("row").filter({ hasText: vip });
    await row.locator('[data-offer-access="Apply to join"]').waitFor();
    expect(await pub.page.getByRole("button", { name: `Join ${vip}` }).count()).toBe(0);
    await pub.page.getByRole("button", { name: `Apply to ${vip}` }).click();
    await row.locator('[data-offer-access="Pending"]').waitFor();
    await expectAccessible(pub.page, "publisher offers with an application");

    const adv = await logIn(users.advertiser);
    const task = adv.page.locator('[data-task="applications"]');
    await task.waitFor();
    expect(await task.textContent()).toMatch(/Decide 1 publisher application$/);
    await task.getByRole("link").click();
    await adv.page.getByRole("heading", { level: 1, name: "Applications" }).waitFor();
    await expectAccessible(adv.page, "applications");
    await adv.page.getByRole("button", { name: `Approve Deal Blog to ${vip}` }).click();
    await adv.page
      .getByRole("row")
      .filter({ hasText: vip })
      .locator('[data-application-status="approved"]')
      .waitFor();
    await adv.context.close();

    await pub.page.reload();
    await pub.page.getByRole("heading", { level: 1, name: /Offers/ }).waitFor();
    await pub.page.getByRole("button", { name: `Join ${vip}` }).click();
    await pub.page.locator("[data-signed-link]").waitFor();
    await pub.page.reload();
    await row.locator('[data-offer-access="Joined"]').waitFor();
    await pub.context.close();
  });

  it("lists page past 100 rows: the conversions table loads the next pages with the API's cursor", async () => {
    const offer = await stack.db
      .selectFrom("offers")
      .select("id")
      .where("tenant_id", "=", tenantId)
      .where("name", "=", offerName)
      .executeTakeFirstOrThrow();
    const before = Number(
      (
        await stack.db
          .selectFrom("conversions")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("tenant_id", "=", tenantId)
          .executeTakeFirstOrThrow()
      ).n,
    );
    const owner = { tenant_id: tenantId, advertiser_id: advertiserId, offer_id: offer.id };
    const seeded = Array.from({ length: 230 }, () =>
      conversionRowOn(owner, null, { status: "pending", revenue_in_rollup: false, payout_in_rollup: false }),
    );
    await stack.db
      .insertInto("conversions")
      .values(seeded.map((c) => ({ ...c, device_info: null, custom_params: null, metadata: null })))
      .execute();
    const total = before + seeded.length;

    const { context, page } = await logIn(users.admin);
    await visit(page, "Conversions", /Conversions/);
    const count = page.locator("[data-row-count]");
    const rows = page.getByRole("table", { name: "Conversions" }).locator("tbody tr");
    await expect.poll(() => count.getAttribute("data-row-count")).toBe("100");
    expect(await rows.count()).toBe(100);
    for (const shown of [200, total]) {
      await page.getByRole("button", { name: "Load more" }).click();
      await expect.poll(() => count.getAttribute("data-row-count"), { timeout: 15_000 }).toBe(String(shown));
    }
    expect(await rows.count()).toBe(total);
    expect(await count.textContent()).toContain("(all)");
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    // Every row once: the pages neither overlap nor skip.
    const refs = await rows.locator("td:nth-child(2)").allTextContents();
    expect(new Set(refs).size).toBe(total);
    for (const c of seeded.slice(0, 5)) expect(refs).toContain(c.transaction_id);
    // Another filter starts again from the first page.
    await page.getByLabel("Status", { exact: true }).selectOption("approved");
    await expect.poll(() => count.getAttribute("data-row-count")).toBe(String(before));
    await expectAccessible(page, "conversions, paged");
    await context.close();
  });
});
