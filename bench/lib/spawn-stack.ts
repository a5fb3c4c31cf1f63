// Starts bench/lib/stack-process.ts as a child process and waits for its ready line.

import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Fixture, FixtureOptions } from "../../packages/devstack/src/fixtures";
import type { StackOptions } from "../../packages/devstack/src/stack";

export interface StackProcess {
  edgeUrl: string;
  apiUrl: string;
  databaseUrl: string;
  /** The stack's Neon SQL-over-HTTP endpoint (`.../sql`). */
  neonHttpUrl: string;
  /** The stack's Upstash REST gateway (its local `/__stats` counts round trips). */
  redisRestUrl: string;
  /** Process id of the stack's Node process (for CPU accounting). */
  pid: number;
  /** True when the workers reach Postgres through PgBouncer. */
  pooled: boolean;
  fixture: Fixture;
  stop(): Promise<void>;
}

export async function spawnStack(opts: {
  stack: StackOptions;
  fixture?: FixtureOptions;
}): Promise<StackProcess> {
  const entry = path.join(import.meta.dirname, "stack-process.ts");
  const tsx = path.join(import.meta.dirname, "../../node_modules/.bin/tsx");
  const child: ChildProcess = spawn(tsx, [entry, JSON.stringify(opts)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Omit<StackProcess, "stop" | "pid">>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`stack process exited with ${code}`)));
    // The first JSON line (a verbose stack logs before it; later lines are read and dropped).
    const onLine = (line: string) => {
      if (!line.startsWith('{"edgeUrl"')) return;
      lines.off("line", onLine);
      resolve(JSON.parse(line));
    };
    lines.on("line", onLine);
  });
  return {
    ...ready,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
