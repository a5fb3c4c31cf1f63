// The OpenAPI document: generated from the routes' own declarations, valid OpenAPI 3.1 by an
// independent validator, covering every route of the app's real route table, served by the worker
// exactly as committed in apps/api/openapi.json. `pnpm openapi` rewrites the committed file.

import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SharedTestStack, sharedStack } from "../../../../tests/support";
import { app } from "../app";
import { OPENAPI_OPTIONS, openApiDocument } from "./document";

const COMMITTED = fileURLToPath(new URL("../../openapi.json", import.meta.url));
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

let generated: Awaited<ReturnType<typeof openApiDocument>>;
let stack: SharedTestStack;

beforeAll(async () => {
  generated = await openApiDocument(app);
  if (process.env.UPDATE_OPENAPI === "1")
    await writeFile(COMMITTED, `${JSON.stringify(generated, null, 2)}\n`);
  stack = sharedStack();
});
afterAll(() => stack.close());

/** Hono's `/api/offers/:id/join` as OpenAPI writes it: `/api/offers/{id}/join`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const spec = structuredClone(generated) as Parameters<Validator["validate"]>[0];
    const result = await new Validator().validate(spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(generated.openapi).toBe("3.1.0");
  });

  it("documents every route of the app, with its security and error envelope", () => {
    const excluded = new Set(OPENAPI_OPTIONS.exclude as string[]);
    const routes = app.routes.filter(
      (r) => r.method !== "ALL" && !excluded.has(r.path) && METHODS.includes(r.method.toLowerCase() as "get"),
    );
    expect(routes.length).toBeGreaterThan(30);
    for (const route of routes) {
      const item = generated.paths[openApiPath(route.path)] as
        | Record<string, Record<string, unknown>>
        | undefined;
      const operation = item?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path} is not documented`).toBeDefined();
      expect(operation?.summary, `${route.method} ${route.path} has no summary`).toBeTruthy();
      const responses = operation?.responses as Record<string, unknown>;
      expect(
        Object.keys(responses).some((s) => s.startsWith("2") || s === "101"),
        `${route.path}: no success response`,
      ).toBe(true);
      expect(responses["400"], `${route.path}: no INVALID_PARAMS response`).toBeDefined();
    }
  });

  it("matches the committed apps/api/openapi.json (run `pnpm openapi` after changing a route)", async () => {
    const committed = JSON.parse(await readFile(COMMITTED, "utf8"));
    expect(JSON.parse(JSON.stringify(generated))).toEqual(committed);
  });

  it("is served at /openapi.json by the worker, and /docs renders a reference over it", async () => {
    const served = await fetch(`${stack.apiUrl}/openapi.json`);
    expect(served.status).toBe(200);
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(generated)));
    const docs = await fetch(`${stack.apiUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain("/openapi.json");
  });
});
