// First middleware of every request: gives it an id (echoed in `x-request-id` and in error
// bodies), builds its services once, and writes one access-log line when it ends.

import { newId } from "@afftrack/core";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { createServices } from "../services/factory";

/** A caller's own request id is kept when it is a plain token, so logs can be joined across systems. */
const INCOMING_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * @example
 * app.use(requestContext());
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : newId("req", 20);
    c.set("requestId", requestId);
    c.header("x-request-id", requestId);
    const services = createServices(c.env, {
      log: { request_id: requestId, method: c.req.method },
      batchRedis: true,
    });
    c.set("services", services);
    c.set("config", services.config);
    c.set("log", services.log);
    c.set("db", services.db);
    c.set("redis", services.redis);
    try {
      await next();
    } finally {
      c.executionCtx.waitUntil(services.close());
      const status = c.res.status;
      const line = { route: c.req.routePath, status, latency_ms: Date.now() - started };
      if (status >= 500) services.log.warn("request failed", line);
      else services.log.info("request", line);
    }
  };
}
