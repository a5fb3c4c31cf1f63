// The widget over HTTP and WebSocket: the page with the count in its first response and only
// sanitised styling from the URL, count.json (CORS, short cache, campaign filter), the widget
// channel's broadcast per campaign, test events that animate without counting, the host form.

import { request } from "node:http";
import { SEED_TRACKER_REQUEST } from "@afftrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../../tests/management-helpers";
import { type SharedTestStack, sharedStack } from "../../../../../tests/support";
import {
  openWidgetSocket,
  type TrackerSetup,
  track,
  trackerSetup,
  WIDGET_CLIENT,
  widgetPath,
} from "../../../../../tests/tracker-helpers";

let stack: SharedTestStack;
let s: TrackerSetup;

beforeAll(async () => {
  stack = sharedStack();
  s = await trackerSetup(stack, { goal: 10 });
});
afterAll(() => stack.close());

const event = (influencer: string, campaign?: string, extra: Record<string, unknown> = {}) => ({
  ...SEED_TRACKER_REQUEST,
  product: s.product,
  influencer_id: influencer,
  campaign,
  ...extra,
});

async function countOf(path: string) {
  const res = await fetch(`${stack.apiUrl}${path}/count.json`, { headers: WIDGET_CLIENT });
  return { res, body: (await res.json()) as { success: boolean; data: { total: number } } };
}

describe("GET /w/{customer}/{product}/{influencer}[/{campaign}]", () => {
  it("renders the current count into the first response, with goal bar and a strict CSP", async () => {
    for (let i = 0; i < 3; i++) expect((await track(stack, s.key, event("page_inf"))).status).toBe(200);
    const res = await fetch(`${stack.apiUrl}${widgetPath(s, "page_inf")}`, { headers: WIDGET_CLIENT });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<div id="count">3</div>');
    expect(html).toContain("Goal 10");
    expect(html).toContain("width:30%");
    expect(html).toMatch(/background:transparent/);
  });

  it("uses only well-formed colours and sizes from the query string", async () => {
    const hostile = encodeURIComponent("red;}</style><script>alert(1)</script>");
    const res = await fetch(
      `${stack.apiUrl}${widgetPath(s, "page_inf")}?color=${hostile}&accent=00ff00&bg=%23112233&size=9999&sound=1`,
      { headers: WIDGET_CLIENT },
    );
    const html = await res.text();
    expect(html).not.toContain("alert(1)");
    expect(html).toContain("color:#ffffff"); // the default, not the hostile value
    expect(html).toContain("background:#00ff00"); // accent, as hex
    expect(html).toContain("background:#112233;margin");
    expect(html).toContain("font-size:48px"); // size out of range: default
    expect(html).toContain('"sound":true');
  });

  it("answers 404 in the envelope for an unknown widget and 400 for a malformed code", async () => {
    const unknown = await call(stack, "GET", `/w/${s.customer_code}/nope/someone`, {
      headers: WIDGET_CLIENT,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false, code: "NOT_FOUND" });
    const bad = await call(stack, "GET", `/w/BAD%20CODE/${s.product}/someone`, { headers: WIDGET_CLIENT });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("INVALID_PARAMS");
  });

  it("is served on the widget host form {product}-widget-{customer}.{suffix}/{influencer}/{campaign}", async () => {
    await track(stack, s.key, event("host_inf", "Camp_H"));
    const url = new URL(stack.apiUrl);
    const html = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: "/host_inf/Camp_H",
          headers: {
            ...WIDGET_CLIENT,
            host: `${s.product}-widget-${s.customer_code}.streamtools.example.com`,
          },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(html.startsWith("200 ")).toBe(true);
    expect(html).toContain('<div id="count">1</div>');
    expect(html).toContain("Camp_H");
  });
});

describe("count.json", () => {
  it("is the machine-readable counter: envelope, open CORS, short cache, per campaign", async () => {
    await track(stack, s.key, event("count_inf", "Alpha"));
    await track(stack, s.key, event("count_inf", "Alpha"));
    await track(stack, s.key, event("count_inf", "Beta"));
    await track(stack, s.key, event("count_inf"));
    const all = await countOf(widgetPath(s, "count_inf"));
    expect(all.res.headers.get("access-control-allow-origin")).toBe("*");
    expect(all.res.headers.get("cache-control")).toBe("public, max-age=2");
    expect(all.body).toEqual({
      success: true,
      data: {
        customer_code: s.customer_code,
        product: s.product,
        influencer_id: "count_inf",
        campaign: null,
        total: 4,
        goal: 10,
      },
    });
    expect((await countOf(widgetPath(s, "count_inf", "Alpha"))).body.data.total).toBe(2);
    expect((await countOf(widgetPath(s, "count_inf", "Beta"))).body.data.total).toBe(1);
    expect((await countOf(widgetPath(s, "count_inf", "Gamma"))).body.data.total).toBe(0);
    expect((await countOf(widgetPath(s, "nobody_yet"))).body.data.total).toBe(0);
  });
});

describe("the widget channel", () => {
  it("broadcasts counted events; a campaign-filtered widget gets only its campaign, with its total", async () => {
    const all = await openWidgetSocket(stack, widgetPath(s, "ws_inf"));
    const alpha = await openWidgetSocket(stack, widgetPath(s, "ws_inf", "Alpha"));
    try {
      await track(stack, s.key, event("ws_inf", "Alpha", { event_name: "registration" }));
      const m1 = await all.next();
      expect(m1).toMatchObject({
        type: "event",
        total: 1,
        event: { event_type: "reg", event_name: "registration", campaign: "Alpha", test: false },
      });
      expect(await alpha.next()).toMatchObject({ type: "event", total: 1, event: { campaign: "Alpha" } });
      await track(stack, s.key, event("ws_inf", "Beta"));
      expect(await all.next()).toMatchObject({ total: 2, event: { campaign: "Beta" } });
      await track(stack, s.key, event("ws_inf", "Alpha"));
      expect(await all.next()).toMatchObject({ total: 3, event: { campaign: "Alpha" } });
      // The Alpha widget never saw Beta's event, and its total is Alpha's.
      expect(await alpha.next()).toMatchObject({ total: 2, event: { campaign: "Alpha" } });
      expect(alpha.messages).toHaveLength(2);
    } finally {
      all.close();
      alpha.close();
    }
  });

  it("concurrent events: totals only grow and end exact", async () => {
    const ws = await openWidgetSocket(stack, widgetPath(s, "burst_inf"));
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => track(stack, s.key, event("burst_inf", "Burst"))),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      const totals: number[] = [];
      for (let i = 0; i < 10; i++) totals.push((await ws.next()).total);
      // Each event's statement returns its running total; notices may reach the channel out of
      // order, and the channel never sends a total lower than one it sent: widgets never go back.
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
      expect(totals[9]).toBe(10);
      expect((await countOf(widgetPath(s, "burst_inf"))).body.data.total).toBe(10);
      expect((await countOf(widgetPath(s, "burst_inf", "Burst"))).body.data.total).toBe(10);
    } finally {
      ws.close();
    }
  });

  it("does not animate for a filtered event", async () => {
    const ac = await trackerSetup(stack, { anti_cheat: true });
    const ws = await openWidgetSocket(stack, widgetPath(ac, "ac_ws"));
    try {
      const body = { ...SEED_TRACKER_REQUEST, product: ac.product, influencer_id: "ac_ws" };
      expect((await track(stack, ac.key, body)).body.data.counted).toBe(true);
      expect(await ws.next()).toMatchObject({ total: 1 });
      expect((await track(stack, ac.key, body)).body.data.counted).toBe(false);
      await new Promise((r) => setTimeout(r, 500));
      expect(ws.messages).toHaveLength(1);
    } finally {
      ws.close();
    }
  });

  it("a test event from the management API animates the widget without counting", async () => {
    const ws = await openWidgetSocket(stack, widgetPath(s, "test_inf"));
    try {
      await track(stack, s.key, event("test_inf"));
      expect(await ws.next()).toMatchObject({ total: 1, event: { test: false } });
      const res = await call(stack, "POST", `/api/tracker/products/${s.product_id}/test-event`, {
        token: s.net.adminToken,
        body: { influencer_id: "test_inf", event_name: "Hello" },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data).toEqual({ delivered: 1 });
      expect(await ws.next()).toMatchObject({
        type: "event",
        total: 1,
        event: { test: true, event_name: "Hello" },
      });
      expect((await countOf(widgetPath(s, "test_inf"))).body.data.total).toBe(1);
    } finally {
      ws.close();
    }
  });

  it("refuses a plain GET of the socket path with 400 in the envelope", async () => {
    const res = await call(stack, "GET", `${widgetPath(s, "x")}/ws`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_PARAMS");
  });
});
