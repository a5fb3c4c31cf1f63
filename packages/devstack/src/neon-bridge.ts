// WebSocket-to-TCP bridge standing in for Neon's proxy, so the Neon serverless Pool (Postgres over
// WebSocket) reaches a local Postgres or PGlite. Only allow-listed upstream addresses can be opened.
import { createServer, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";

export interface NeonBridgeAddress {
  host: string;
  port: number;
}

export interface NeonBridgeOptions {
  /** 0 or undefined: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The only upstream addresses a client may ask for (`?address=host:port`), compared exactly. */
  allow: NeonBridgeAddress[];
  /** When set, every allowed request is connected here instead of the address it named. */
  upstream?: NeonBridgeAddress;
}

export interface NeonBridge {
  port: number;
  /**
   * `host:port/v1` without a scheme: use as `neonConfig.wsProxy = (h, p) => \`${wsProxy}?address=${h}:${p}\``
   * (or assign the string directly; the driver appends `?address=` itself).
   */
  wsProxy: string;
  close(): Promise<void>;
}

// Stop reading from Postgres while this much is still queued towards a slow WebSocket client.
const HIGH_WATER_BYTES = 1024 * 1024;
const UPSTREAM_CONNECT_TIMEOUT_MS = 5000;

function parseAddress(value: string | null): NeonBridgeAddress | null {
  if (!value) return null;
  const colon = value.lastIndexOf(":");
  if (colon <= 0) return null;
  let host = value.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const portText = value.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535 || host === "") return null;
  return { host, port };
}

function rejectUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export async function startNeonBridge(opts: NeonBridgeOptions): Promise<NeonBridge> {
  const host = opts.host ?? "127.0.0.1";
  const allowed = new Set(opts.allow.map((a) => `${a.host.toLowerCase()}:${a.port}`));
  const pairs = new Set<{ ws: WebSocket; tcp: Socket }>();

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const splice = (ws: WebSocket, target: NeonBridgeAddress): void => {
    const tcp = connect({ host: target.host, port: target.port });
    tcp.setNoDelay(true);
    const pair = { ws, tcp };
    pairs.add(pair);

    let finished = false;
    // Either side going away ends the other: the Pool treats a closed socket as a dead connection.
    const finish = (code: number, reason: string) => {
      if (finished) return;
      finished = true;
      pairs.delete(pair);
      tcp.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason.slice(0, 120));
    };

    tcp.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () => finish(1011, "upstream connect timeout"));
    tcp.once("connect", () => tcp.setTimeout(0));
    tcp.on("error", (err) => finish(1011, `upstream error: ${err.message}`));
    tcp.on("close", () => finish(1000, "upstream closed"));
    tcp.on("data", (chunk: Buffer) => {
      ws.send(chunk, { binary: true }, (err) => {
        if (err) finish(1011, "send failed");
        else if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES / 2) tcp.resume();
      });
      if (ws.bufferedAmount > HIGH_WATER_BYTES) tcp.pause();
    });

    // Bytes sent before the TCP connect completes are buffered by the socket, so no handshake wait.
    ws.on("message", (data) => {
      if (finished) return;
      if (!tcp.write(toBuffer(data))) {
        ws.pause();
        tcp.once("drain", () => ws.resume());
      }
    });
    ws.on("error", () => finish(1011, "websocket error"));
    ws.on("close", () => {
      if (finished) return;
      finished = true;
      pairs.delete(pair);
      // end() lets a final Terminate message reach Postgres before the socket goes away.
      tcp.end();
      tcp.setTimeout(1000, () => tcp.destroy());
    });
  };

  const server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
    res.end("WebSocket upgrade required\n");
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://bridge.invalid");
    if (url.pathname !== "/v1" && url.pathname !== "/v2") {
      rejectUpgrade(socket, 404, "Not Found", "expected /v1?address=host:port");
      return;
    }
    const requested = parseAddress(url.searchParams.get("address"));
    if (!requested) {
      rejectUpgrade(socket, 400, "Bad Request", "missing or malformed address=host:port");
      return;
    }
    if (!allowed.has(`${requested.host.toLowerCase()}:${requested.port}`)) {
      rejectUpgrade(socket, 403, "Forbidden", `address ${requested.host}:${requested.port} is not allowed`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => splice(ws, opts.upstream ?? requested));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("neon bridge: unexpected listen address");
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    port: address.port,
    wsProxy: `${urlHost}:${address.port}/v1`,
    close: async () => {
      for (const { ws, tcp } of pairs) {
        tcp.destroy();
        ws.terminate();
      }
      pairs.clear();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
