// WebSocket-to-TCP bridge standing in for Neon's proxy, so the Neon serverless Pool (Postgres over
// WebSocket) reaches a local Postgres, PgBouncer or PGlite with the driver's default connect path.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
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

// Untyped startup packets (length, then a 32-bit code).
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
// Postgres refuses startup packets above 10000 bytes; so do we, before buffering more.
const MAX_STARTUP_BYTES = 10_000;

const PASSWORD_MESSAGE = 0x70; // 'p': PasswordMessage, SASLInitialResponse and SASLResponse alike
const AUTHENTICATION = 0x52; // 'R'
const ERROR_RESPONSE = 0x45; // 'E'
const AUTH_OK = 0;
const AUTH_CLEARTEXT = 3;
const AUTH_MD5 = 5;
const AUTH_SASL = 10;
const AUTH_SASL_CONTINUE = 11;
const AUTH_SASL_FINAL = 12;
// A server asking for more than this is refused rather than letting it pin a core (pg uses the same cap).
const MAX_SCRAM_ITERATIONS = 100_000;

interface Message {
  type: number;
  body: Buffer;
  raw: Buffer;
}

/** Reassembles protocol messages from arbitrarily split WebSocket frames or TCP chunks. */
class MessageReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** A startup-phase packet (no type byte), or null until it is complete. Throws when oversized. */
  nextUntyped(): Buffer | null {
    if (this.buf.length < 8) return null;
    const length = this.buf.readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_BYTES) throw new Error(`invalid startup packet length ${length}`);
    if (this.buf.length < length) return null;
    const packet = this.buf.subarray(0, length);
    this.buf = this.buf.subarray(length);
    return packet;
  }

  /** A typed message, or null until it is complete. Throws on a length no message can have. */
  next(): Message | null {
    if (this.buf.length < 5) return null;
    const length = this.buf.readInt32BE(1);
    if (length < 4) throw new Error(`invalid message length ${length}`);
    if (this.buf.length < length + 1) return null;
    const raw = this.buf.subarray(0, length + 1);
    this.buf = this.buf.subarray(length + 1);
    return { type: raw[0] ?? 0, body: raw.subarray(5), raw };
  }

  /** Whatever is buffered, whole messages or not, for when the stream is copied through from here on. */
  drain(): Buffer {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
}

function cString(body: Buffer, offset = 0): string {
  const end = body.indexOf(0, offset);
  return body.toString("utf8", offset, end === -1 ? body.length : end);
}

function startupParameters(packet: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  let offset = 8;
  while (offset < packet.length && packet[offset] !== 0) {
    const key = cString(packet, offset);
    offset += Buffer.byteLength(key) + 1;
    const value = cString(packet, offset);
    offset += Buffer.byteLength(value) + 1;
    params.set(key, value);
  }
  return params;
}

function typedMessage(type: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value, 0);
  return b;
}

const cStringBytes = (text: string) => Buffer.from(`${text}\0`, "utf8");

/** An ErrorResponse the client's driver reports like one from Postgres (severity, SQLSTATE, message). */
function errorResponse(code: string, message: string): Buffer {
  return typedMessage(ERROR_RESPONSE, Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, "utf8"));
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash("md5")
    .update(password + user)
    .digest("hex");
  return `md5${createHash("md5")
    .update(Buffer.concat([Buffer.from(inner), salt]))
    .digest("hex")}`;
}

// SASLprep's mapping steps (RFC 4013 2.1-2.2) and NFKC; Postgres prepares stored verifiers the same way.
function saslPrep(password: string): string {
  return password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, " ")
    .replace(/\u00AD|\u034F|\u1806|\u180B|\u180C|\u180D|\u200C|\u200D|\u2060|[\uFE00-\uFE0F]|\uFEFF/g, "")
    .normalize("NFKC");
}

const hmac = (key: Buffer, data: string) => createHmac("sha256", key).update(data).digest();

// PBKDF2 at Postgres's 4096 iterations costs milliseconds, and the Neon Pool in a Worker connects
// once per request: remember the last few derived keys (the salt only changes with the password).
const saltedPasswords = new Map<string, Buffer>();

function saltedPassword(password: string, salt: string, iterations: number): Buffer {
  const key = `${iterations}:${salt}:${createHash("sha256").update(password).digest("hex")}`;
  let salted = saltedPasswords.get(key);
  if (!salted) {
    salted = pbkdf2Sync(saslPrep(password), Buffer.from(salt, "base64"), iterations, 32, "sha256");
    if (saltedPasswords.size >= 16) saltedPasswords.delete(saltedPasswords.keys().next().value ?? "");
    saltedPasswords.set(key, salted);
  }
  return salted;
}

/** The client side of SCRAM-SHA-256 (RFC 5802/7677) without channel binding: upstream is plain TCP. */
class ScramClient {
  private readonly nonce = randomBytes(18).toString("base64");
  private readonly firstBare = `n=*,r=${this.nonce}`;
  private serverSignature: Buffer | null = null;
  verified = false;

  constructor(private readonly password: string) {}

  initialResponse(): Buffer {
    const first = Buffer.from(`n,,${this.firstBare}`);
    return typedMessage(PASSWORD_MESSAGE, cStringBytes("SCRAM-SHA-256"), int32(first.length), first);
  }

  /** Answers server-first-message with client-final-message; throws on a malformed challenge. */
  respond(serverFirst: string): Buffer {
    const attrs = new Map(serverFirst.split(",").map((pair) => [pair.slice(0, 1), pair.slice(2)]));
    const nonce = attrs.get("r");
    const salt = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (!nonce?.startsWith(this.nonce) || nonce.length === this.nonce.length)
      throw new Error("SCRAM: server nonce does not extend the client nonce");
    if (!salt) throw new Error("SCRAM: server sent no salt");
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS)
      throw new Error(`SCRAM: unacceptable iteration count ${attrs.get("i")}`);
    const salted = saltedPassword(this.password, salt, iterations);
    const clientKey = hmac(salted, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const finalWithoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${finalWithoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
    this.serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
    return typedMessage(PASSWORD_MESSAGE, Buffer.from(`${finalWithoutProof},p=${proof.toString("base64")}`));
  }

  /** Checks server-final-message: a server that cannot prove it knows the verifier is refused. */
  verify(serverFinal: string): boolean {
    const v = serverFinal.split(",").find((pair) => pair.startsWith("v="));
    if (!v || !this.serverSignature) return false;
    const given = Buffer.from(v.slice(2), "base64");
    this.verified =
      given.length === this.serverSignature.length && timingSafeEqual(given, this.serverSignature);
    return this.verified;
  }
}

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

    const toClient = (chunk: Buffer) => {
      ws.send(chunk, { binary: true }, (err) => {
        if (err) finish(1011, "send failed");
        else if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES / 2) tcp.resume();
      });
      if (ws.bufferedAmount > HIGH_WATER_BYTES) tcp.pause();
    };
    // Bytes written before the TCP connect completes are buffered by the socket, so no handshake wait.
    const toServer = (chunk: Buffer) => {
      if (!tcp.write(chunk)) {
        ws.pause();
        tcp.once("drain", () => ws.resume());
      }
    };
    // Failures of the bridge's own handshake reach the driver as a Postgres error, not a bare close.
    const refuse = (code: string, message: string) => {
      if (finished) return;
      toClient(errorResponse(code, message));
      finish(1000, message);
    };

    // The connect handshake, done here as Neon's proxy does it. The driver's default connect
    // (pipelineConnect "password") sends its PasswordMessage right behind the StartupMessage without
    // waiting to be asked; a trust-auth Postgres or PgBouncer would take that 'p' as a protocol error.
    // So: SSLRequest is answered 'N' here; the StartupMessage goes upstream; the first 'p' from the
    // client is held as its cleartext password; the server's authentication requests are answered
    // with it (cleartext, MD5 or SCRAM-SHA-256, which the bridge computes) and never shown to the
    // client, which only ever sees AuthenticationCleartextPassword (when the bridge still needs the
    // password, as from Neon's proxy) and AuthenticationOk. A password the server never asked for
    // is dropped. Messages the client pipelines behind its password wait for AuthenticationOk.
    // After that both directions are copied through untouched.
    let clientPhase: "startup" | "auth" | "first" | "open" = "startup";
    let serverOpen = false;
    const fromClient = new MessageReader();
    const fromServer = new MessageReader();
    const heldForServer: Buffer[] = [];
    let user = "";
    let password: string | null = null;
    let passwordWaiter: ((pw: string) => void) | null = null;
    let askedClient = false;
    let scram: ScramClient | null = null;

    const withPassword = (use: (pw: string) => void) => {
      if (password !== null) return use(password);
      passwordWaiter = use;
      if (!askedClient) {
        askedClient = true;
        toClient(typedMessage(AUTHENTICATION, int32(AUTH_CLEARTEXT)));
      }
    };

    const pumpClient = () => {
      while (!finished) {
        if (clientPhase === "open") {
          const rest = fromClient.drain();
          if (rest.length > 0) toServer(rest);
          return;
        }
        if (clientPhase === "startup") {
          const packet = fromClient.nextUntyped();
          if (!packet) return;
          const code = packet.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            toClient(Buffer.from("N"));
            continue;
          }
          if (code === CANCEL_REQUEST) {
            // A cancel connection carries nothing else; Postgres answers it by closing.
            toServer(packet);
            clientPhase = "open";
            serverOpen = true;
            continue;
          }
          if (code >>> 16 !== 3) return refuse("08P01", `unsupported frontend protocol ${code >>> 16}`);
          user = startupParameters(packet).get("user") ?? "";
          toServer(packet);
          clientPhase = "auth";
          continue;
        }
        const msg = fromClient.next();
        if (!msg) return;
        if (clientPhase === "first") {
          // The server let us in without a password: a 'p' now can only be the driver's pipelined one.
          if (msg.type !== PASSWORD_MESSAGE) toServer(msg.raw);
          clientPhase = "open";
          continue;
        }
        if (msg.type === PASSWORD_MESSAGE && password === null) {
          password = cString(msg.body);
          const waiter = passwordWaiter;
          passwordWaiter = null;
          waiter?.(password);
          continue;
        }
        heldForServer.push(msg.raw);
      }
    };

    const authenticated = () => {
      for (const raw of heldForServer) toServer(raw);
      heldForServer.length = 0;
      clientPhase = password === null ? "first" : "open";
      pumpClient();
    };

    const pumpServer = () => {
      while (!finished && !serverOpen) {
        const msg = fromServer.next();
        if (!msg) return;
        if (msg.type !== AUTHENTICATION) {
          // ErrorResponse (the server closes after it), NoticeResponse, NegotiateProtocolVersion.
          toClient(msg.raw);
          continue;
        }
        const method = msg.body.readInt32BE(0);
        const data = msg.body.subarray(4);
        switch (method) {
          case AUTH_OK: {
            if (scram && !scram.verified)
              return refuse(
                "28000",
                "SCRAM: the server skipped its final message (no proof of the password)",
              );
            serverOpen = true;
            toClient(msg.raw);
            const rest = fromServer.drain();
            if (rest.length > 0) toClient(rest);
            authenticated();
            return;
          }
          case AUTH_CLEARTEXT:
            withPassword((pw) => toServer(typedMessage(PASSWORD_MESSAGE, cStringBytes(pw))));
            break;
          case AUTH_MD5: {
            const salt = Buffer.from(data.subarray(0, 4));
            withPassword((pw) =>
              toServer(typedMessage(PASSWORD_MESSAGE, cStringBytes(md5Password(user, pw, salt)))),
            );
            break;
          }
          case AUTH_SASL: {
            const mechanisms = data.toString("utf8").split("\0").filter(Boolean);
            if (!mechanisms.includes("SCRAM-SHA-256"))
              return refuse("28000", `the bridge cannot do SASL mechanisms ${mechanisms.join(", ")}`);
            withPassword((pw) => {
              scram = new ScramClient(pw);
              toServer(scram.initialResponse());
            });
            break;
          }
          case AUTH_SASL_CONTINUE: {
            if (!scram) return refuse("08P01", "SCRAM: unexpected SASLContinue");
            try {
              toServer(scram.respond(data.toString("utf8")));
            } catch (err) {
              return refuse("28000", (err as Error).message);
            }
            break;
          }
          case AUTH_SASL_FINAL:
            if (!scram?.verify(data.toString("utf8")))
              return refuse("28000", "SCRAM: the server's signature does not match");
            break;
          default:
            return refuse("28000", `the bridge does not support authentication method ${method}`);
        }
      }
    };

    tcp.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () => finish(1011, "upstream connect timeout"));
    tcp.once("connect", () => tcp.setTimeout(0));
    tcp.on("error", (err) => finish(1011, `upstream error: ${err.message}`));
    tcp.on("close", () => finish(1000, "upstream closed"));
    tcp.on("data", (chunk: Buffer) => {
      if (finished) return;
      if (serverOpen) return toClient(chunk);
      fromServer.push(chunk);
      try {
        pumpServer();
      } catch (err) {
        refuse("08P01", `bad message from the server: ${(err as Error).message}`);
      }
    });

    ws.on("message", (data) => {
      if (finished) return;
      const chunk = toBuffer(data);
      if (clientPhase === "open") return toServer(chunk);
      fromClient.push(chunk);
      try {
        pumpClient();
      } catch (err) {
        refuse("08P01", (err as Error).message);
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
