// `pnpm sdk:generate`: regenerates src/generated/schema.ts from apps/api/openapi.json.

import { writeFileSync } from "node:fs";
import { generateSchemaSource, SCHEMA_PATH } from "./generate-schema";

const source = await generateSchemaSource();
writeFileSync(SCHEMA_PATH, source);
console.log(`wrote ${SCHEMA_PATH} (${source.length} chars)`);
