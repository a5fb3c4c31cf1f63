// PgBouncer in front of the local Postgres, in transaction mode: the local counterpart of Neon's
// pooled endpoint. Workers open a connection per request; without a pooler every one of them
// costs Postgres a fresh backend (fork, catalog caches, auth), which dominates under load.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port";

export interface PgBouncerHandle {
  host: string;
  port: number;
  close(): Promise<void>;
}

function findBinary(): string | null {
  for (const candidate of ["pgbouncer", "/usr/sbin/pgbouncer"]) {
    if (spawnSync(candidate, ["--version"], { stdio: "ignore" }).status === 0) return candidate;
  }
  return null;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts PgBouncer for the given upstream, or returns null when no pgbouncer binary is installed. */
export async function startPgBouncer(opts: {
  upstream: { host: string; port: number };
  user: string;
  poolSize?: number;
}): Promise<PgBouncerHandle | null> {
  const binary = findBinary();
  if (!binary) return null;
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "afftrack-pgbouncer-"));
  await chmod(dir, 0o755);
  const ini = [
    "[databases]",
    `* = host=${opts.upstream.host} port=${opts.upstream.port}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${path.join(dir, "users.txt")}`,
    "pool_mode = transaction",
    "max_client_conn = 2000",
    `default_pool_size = ${opts.poolSize ?? 16}`,
    "ignore_startup_parameters = extra_float_digits,options,application_name",
    "log_connections = 0",
    "log_disconnections = 0",
  ].join("\n");
  await writeFile(path.join(dir, "pgbouncer.ini"), `${ini}\n`);
  await writeFile(path.join(dir, "users.txt"), `"${opts.user}" ""\n`);
  // PgBouncer refuses to run as root; drop to the postgres user when we are root.
  const args =
    process.getuid?.() === 0
      ? ["-u", "postgres", path.join(dir, "pgbouncer.ini")]
      : [path.join(dir, "pgbouncer.ini")];
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await canConnect(port))) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`pgbouncer did not start: ${stderr.trim()}`);
  }
  return {
    host: "127.0.0.1",
    port,
    close: async () => {
      process.off("exit", killOnExit);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
