// GET /openapi.json — the OpenAPI 3.1 document, generated once per isolate from the routes'
// own declarations (the same schemas that validate requests).

import type { Hono } from "hono";
import type { AppEnv } from "../context";
import { openApiDocument } from "../openapi/document";

export function registerOpenApi(app: Hono<AppEnv>): void {
  let document: Promise<unknown> | undefined;
  app.get("/openapi.json", async (c) => {
    document ??= openApiDocument(app);
    return c.json(await document);
  });
}
