// A throwaway Postgres database for a benchmark run, so runs never see each other's rows; and the
// number format the benchmarks print.

import { withTempDatabase as withDatabase } from "../../packages/devstack/src/temp-database";

export const withTempDatabase = <T>(fn: (url: string) => Promise<T>): Promise<T> =>
  withDatabase(fn, "afftrack_bench");

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
