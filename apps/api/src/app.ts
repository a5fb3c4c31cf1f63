// The API worker's HTTP app: request context, the body limit, every route, the OpenAPI document
// and its viewer. Kept apart from index.ts (which binds the Workers runtime) so tests can read
// its route table and document in Node.

import { MAX_BODY_BYTES } from "@afftrack/core";
import { Hono } from "hono";
import type { AppEnv } from "./context";
import { respondNotFound, respondToError } from "./errors";
import { bodyLimit } from "./middleware/body-limit";
import { requestContext } from "./middleware/request-context";
import { registerRoutes } from "./routes/index";

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestContext());
  app.use(bodyLimit({ maxBytes: MAX_BODY_BYTES }));
  registerRoutes(app);
  app.notFound(respondNotFound);
  app.onError(respondToError);
  return app;
}

export const app = createApp();
