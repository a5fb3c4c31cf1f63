import { defineConfig } from "vitest/config";

// Unit tests of pure packages run in Node; end-to-end tests start workerd through Miniflare
// (see packages/devstack) against the real Redis and Postgres.
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["./tests/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./tests/summary-reporter.ts"],
  },
});
