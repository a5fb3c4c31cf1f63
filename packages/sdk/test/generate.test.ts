// Drift: the committed generated types must be exactly what `pnpm sdk:generate` writes from the
// committed OpenAPI document (run it after changing a route).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateSchemaSource, SCHEMA_PATH } from "../scripts/generate-schema";

describe("generated client types", () => {
  it("match apps/api/openapi.json (run `pnpm sdk:generate` when this fails)", async () => {
    const expected = await generateSchemaSource();
    const committed = readFileSync(SCHEMA_PATH, "utf8");
    expect(committed === expected, "packages/sdk/src/generated/schema.ts is stale").toBe(true);
  });

  it("cover every path of the document", async () => {
    const doc = JSON.parse(readFileSync(new URL("../../../apps/api/openapi.json", import.meta.url), "utf8"));
    const source = readFileSync(SCHEMA_PATH, "utf8");
    const missing = Object.keys(doc.paths).filter((path) => !source.includes(`"${path}": {`));
    expect(missing).toEqual([]);
  });

  it("are generated deterministically", async () => {
    expect(await generateSchemaSource()).toBe(await generateSchemaSource());
  });
});
