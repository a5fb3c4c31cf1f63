// A loopback webhook receiver for tests and the benchmark: a node http server on 127.0.0.1 (random
// port) that records every request per path and answers from a per-path plan (e.g. fail the first
// N attempts, then succeed).

import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  at: number;
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type PlannedAnswer = number | { status: number; headers?: Record<string, string>; body?: string };

export interface WebhookReceiver {
  /** `http://127.0.0.1:{port}/{name}` */
  url(name: string): string;
  /** Answers for the next requests to /{name}, in order; afterwards `fallback` (default 200). */
  plan(name: string, answers: PlannedAnswer[], fallback?: PlannedAnswer): void;
  requests(name: string): ReceivedRequest[];
  /** Resolves once /{name} has received `count` requests. */
  waitFor(name: string, count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Called on every request (the benchmark timestamps first arrivals). */
  onRequest?: (name: string, req: ReceivedRequest) => void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, ReceivedRequest[]>();
  const plans = new Map<string, { answers: PlannedAnswer[]; fallback: PlannedAnswer }>();
  const waiters = new Set<() => void>();
  const receiver = {} as WebhookReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const name = (req.url ?? "/").split("?")[0]?.slice(1) ?? "";
      const entry: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      received.set(name, [...(received.get(name) ?? []), entry]);
      receiver.onRequest?.(name, entry);
      const plan = plans.get(name);
      const answer = plan?.answers.shift() ?? plan?.fallback ?? 200;
      const a = typeof answer === "number" ? { status: answer } : answer;
      res.writeHead(a.status, { "content-type": "text/plain", ...a.headers });
      res.end(a.body ?? `answer ${a.status}`);
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(receiver, {
    url: (name: string) => `http://127.0.0.1:${port}/${name}`,
    plan: (name: string, answers: PlannedAnswer[], fallback: PlannedAnswer = 200) => {
      plans.set(name, { answers: [...answers], fallback });
    },
    requests: (name: string) => received.get(name) ?? [],
    waitFor: (name: string, count: number, timeoutMs = 20_000) =>
      new Promise<ReceivedRequest[]>((resolve, reject) => {
        const check = () => {
          const list = received.get(name) ?? [];
          if (list.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(list);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver /${name}: ${(received.get(name) ?? []).length} of ${count} requests`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return receiver;
}
