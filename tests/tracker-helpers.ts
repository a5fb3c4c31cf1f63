// Shared by the influencer tracker tests: a network with a tracker customer, a product and an
// access key, all made through the management API; postbacks; widget sockets from Node.

import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { buildNetwork, call, type Network } from "./management-helpers";

type StackUrls = { apiUrl: string };

export interface TrackerSetup {
  net: Network;
  customer_id: string;
  customer_code: string;
  product_id: string;
  product: string;
  key: string;
  key_id: string;
}

export function uniqueCode(tag: string): string {
  return `${tag}_${randomBytes(5).toString("hex")}`;
}

// biome-ignore lint/suspicious/noExplicitAny: the data of whichever endpoint was called
async function ok(res: ReturnType<typeof call>, status: number, what: string): Promise<any> {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text}`);
  return r.body.data;
}

export async function createProduct(
  stack: StackUrls,
  token: string,
  customerId: string,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; code: string }> {
  const code = (fields.code as string | undefined) ?? uniqueCode("prod");
  return ok(
    call(stack, "POST", "/api/tracker/products", {
      token,
      body: { customer_id: customerId, code, name: "Sign-ups", ...fields },
    }),
    201,
    "create product",
  );
}

/** A network, a customer, a product (`productFields`) and an access key. */
export async function trackerSetup(
  stack: StackUrls,
  productFields: Record<string, unknown> = {},
  net?: Network,
): Promise<TrackerSetup> {
  const network = net ?? (await buildNetwork(stack, "Tracker"));
  const customer_code = uniqueCode("brand");
  const customer = await ok(
    call(stack, "POST", "/api/tracker/customers", {
      token: network.adminToken,
      body: { name: "Brand", customer_code },
    }),
    201,
    "create customer",
  );
  const product = await createProduct(stack, network.adminToken, customer.id, productFields);
  const key = await ok(
    call(stack, "POST", "/api/tracker/access-keys", {
      token: network.adminToken,
      body: { customer_id: customer.id },
    }),
    201,
    "create access key",
  );
  return {
    net: network,
    customer_id: customer.id,
    customer_code,
    product_id: product.id,
    product: product.code,
    key: key.key,
    key_id: key.id,
  };
}

export function track(stack: StackUrls, key: string, body: unknown) {
  return call(stack, "POST", `/t/${key}`, { body });
}

export function widgetPath(
  s: Pick<TrackerSetup, "customer_code" | "product">,
  influencer: string,
  campaign?: string,
) {
  return `/w/${s.customer_code}/${s.product}/${influencer}${campaign ? `/${campaign}` : ""}`;
}

export interface WidgetSocket {
  // biome-ignore lint/suspicious/noExplicitAny: widget messages are asserted by the tests
  messages: any[];
  // biome-ignore lint/suspicious/noExplicitAny: as above
  next(timeoutMs?: number): Promise<any>;
  close(): void;
}

/**
 * The client address this test process's widget requests come from (a random one of 198.18.0.0/15,
 * the benchmarking range): the widget routes are rate-limited per client address, and every test
 * file shares the stack from 127.0.0.1, so each file keeps a bucket of its own.
 */
export const WIDGET_CLIENT = {
  "cf-connecting-ip": `198.${18 + Math.floor(Math.random() * 2)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`,
};

/** Opens a widget's WebSocket from Node and collects its JSON messages. */
export async function openWidgetSocket(stack: StackUrls, path: string): Promise<WidgetSocket> {
  const ws = new WebSocket(`${stack.apiUrl.replace(/^http/, "ws")}${path}/ws`, { headers: WIDGET_CLIENT });
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const messages: any[] = [];
  const waiters: Array<() => void> = [];
  ws.on("message", (data) => {
    const text = data.toString();
    if (text === "pong") return;
    messages.push(JSON.parse(text));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let read = 0;
  return {
    messages,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length <= read) {
        if (Date.now() > deadline) throw new Error(`no widget message within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return messages[read++];
    },
    close: () => ws.close(),
  };
}

export interface SocketAttempt {
  /** The open socket (status 101), or null when the upgrade was refused. */
  ws: WebSocket | null;
  status: number;
  /** The refusal's body. */
  body: string;
}

/** Tries a widget's WebSocket upgrade from Node: the open socket, or the refusal's status and body. */
export function tryWidgetSocket(
  stack: StackUrls,
  path: string,
  headers: Record<string, string> = {},
): Promise<SocketAttempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${stack.apiUrl.replace(/^http/, "ws")}${path}/ws`, { headers });
    ws.once("open", () => resolve({ ws, status: 101, body: "" }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ ws: null, status: res.statusCode ?? 0, body }));
    });
    ws.once("error", (err) => {
      if (!String(err).includes("Unexpected server response")) reject(err);
    });
  });
}
