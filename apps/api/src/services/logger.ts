// Structured logs: one JSON line per event with the request id, route, tenant and whatever the
// caller adds. Secrets, tokens, keys and IP addresses are dropped by field name before printing.

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names never printed, whatever their value (matched case-insensitively, anywhere in the name). */
const SECRET_FIELD =
  /secret|token|password|passwd|api[_-]?key|^key$|presented|authorization|cookie|signature|(^|[_-])ip($|[_-])|ip_address/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  /** `err` keeps its name, message and stack. */
  error(msg: string, err?: unknown, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (request id, route, tenant, queue...). */
  child(fields: LogFields): Logger;
  /** Adds fields to this logger's later lines (e.g. the tenant once the caller is known). */
  set(fields: LogFields): void;
}

/** Field names already judged (a hot path logs the same few names on every request). */
const judged = new Map<string, boolean>();

function isSecretField(name: string): boolean {
  let secret = judged.get(name);
  if (secret === undefined) {
    secret = SECRET_FIELD.test(name);
    if (judged.size < 1000) judged.set(name, secret);
  }
  return secret;
}

function scrub(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > 4) return "[nested]";
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    out[k] = isSecretField(k) ? "[redacted]" : scrub(v, depth + 1);
  }
  return out;
}

export function describeError(err: unknown): LogFields {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      error: { name: err.name, message: err.message, stack: err.stack, ...(code ? { code } : {}) },
    };
  }
  return { error: { message: String(err) } };
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (default console); tests pass an array's push. */
  sink?: (line: string, level: LogLevel) => void;
}

const consoleSink = (line: string, level: LogLevel) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/**
 * @example
 * const log = createLogger({ level: "info" }).child({ request_id: "req_..." });
 * log.error("postback failed", err, { offer_id });
 */
export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[opts.level ?? "info"];
  const sink = opts.sink ?? consoleSink;
  const context: LogFields = { ...base };
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const line = scrub({ ts: new Date().toISOString(), level, msg, ...context, ...fields });
    sink(JSON.stringify(line), level);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, err, fields) =>
      write("error", msg, { ...fields, ...(err === undefined ? {} : describeError(err)) }),
    child: (fields) => createLogger(opts, { ...context, ...fields }),
    set: (fields) => Object.assign(context, fields),
  };
}
