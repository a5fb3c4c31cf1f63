import { defineConfig } from "vitest/config";

// Unit tests of pure packages run in Node; end-to-end tests (beside the routes they test, and in
// tests/) talk over HTTP to the stacks the global setup starts once per run: workerd through
// Miniflare (see packages/devstack) against the real Redis and Postgres.
export default defineConfig({
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
      "apps/*/src/**/*.test.ts",
      "tests/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["./tests/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./tests/summary-reporter.ts"],
  },
});
