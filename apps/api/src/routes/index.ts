// Every route of the API worker, one line each. Files sit where their URL points:
// `/api/offers/:id/join` is routes/api/offers/[id]/join.route.ts.

import type { Hono } from "hono";
import type { AppEnv } from "../context";
import { registerAdvertiser } from "./api/advertisers/[id].route";
import { registerAdvertisers } from "./api/advertisers/index.route";
import { registerDocs } from "./docs.route";
import { registerHealthz } from "./healthz.route";
import { registerIngestion } from "./ingest/index";
import { registerManagementRoutes } from "./management/index";
import { registerOpenApi } from "./openapi.json.route";

export function registerRoutes(app: Hono<AppEnv>): void {
  registerHealthz(app);
  registerAdvertisers(app);
  registerAdvertiser(app);
  registerManagementRoutes(app);
  registerIngestion(app);
  registerOpenApi(app);
  registerDocs(app);
}
