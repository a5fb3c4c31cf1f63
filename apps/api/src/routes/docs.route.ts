// GET /docs — the interactive API reference (Scalar) over /openapi.json.

import { Scalar } from "@scalar/hono-api-reference";
import type { Hono } from "hono";
import type { AppEnv } from "../context";

export function registerDocs(app: Hono<AppEnv>): void {
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "afftrack API reference" }));
}
