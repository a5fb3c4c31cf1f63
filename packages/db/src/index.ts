export * from "./clicks";
export * from "./client";
export * from "./conversions";
export * from "./links";
export { migrationProvider, migrations } from "./migrations/index";
export type * from "./schema";
