export * from "./advertisers";
export * from "./clicks";
export * from "./client";
export * from "./conversions";
export * from "./link-secrets";
export * from "./links";
export { migrationProvider, migrations } from "./migrations/index";
export * from "./pagination";
export type * from "./schema";
