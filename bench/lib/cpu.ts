// CPU time by process kind (workerd, Postgres, Redis, PgBouncer, the stack's Node process, the
// load generator) read from /proc, so a benchmark can say how many CPU milliseconds each request
// cost each part of the local stack. Linux only; elsewhere it reports nothing.

import { readdirSync, readFileSync } from "node:fs";

export type CpuKind = "workerd" | "postgres" | "redis" | "pgbouncer" | "stack node" | "load generator";

/** USER_HZ: /proc reports CPU time in clock ticks of 1/100 s on Linux. */
const TICK_MS = 10;

function ticksOf(pid: string): { comm: string; ticks: number; ppid: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // After "comm": state(0) ppid(1) ... utime(11) stime(12)
    return { comm, ppid: fields[1] ?? "", ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** A snapshot of CPU ms per kind; `stackPid` is the child running the local stack. */
export function cpuSnapshot(stackPid: number | undefined): Map<CpuKind, number> {
  const out = new Map<CpuKind, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  const add = (kind: CpuKind, ticks: number) => out.set(kind, (out.get(kind) ?? 0) + ticks * TICK_MS);
  for (const pid of pids) {
    const p = ticksOf(pid);
    if (!p) continue;
    if (p.comm === "workerd") add("workerd", p.ticks);
    else if (p.comm === "postgres") add("postgres", p.ticks);
    else if (p.comm.startsWith("redis-server")) add("redis", p.ticks);
    else if (p.comm === "pgbouncer") add("pgbouncer", p.ticks);
    else if (
      stackPid !== undefined &&
      (pid === String(stackPid) || p.ppid === String(stackPid)) &&
      p.comm !== "workerd"
    )
      add("stack node", p.ticks);
    else if (pid === String(process.pid) || p.comm === "wrk") add("load generator", p.ticks);
  }
  return out;
}

/** CPU ms per request of each kind between two snapshots. */
export function cpuPerRequest(before: Map<CpuKind, number>, after: Map<CpuKind, number>, requests: number) {
  const rows: [CpuKind, number][] = [];
  for (const [kind, ms] of after) rows.push([kind, (ms - (before.get(kind) ?? 0)) / Math.max(1, requests)]);
  return rows.sort((a, b) => b[1] - a[1]);
}

export function formatCpu(rows: [CpuKind, number][]): string {
  const total = rows.reduce((s, [, ms]) => s + ms, 0);
  return `${rows.map(([k, ms]) => `${k} ${ms.toFixed(2)}`).join(", ")}; total ${total.toFixed(2)} ms`;
}

/** CPU ms the whole machine spent busy (all processes, all cores) so far, from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const [, ...fields] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
    const ticks = fields.map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = ticks.slice(0, 8).reduce((s, t, i) => (i === 3 || i === 4 ? s : s + t), 0);
    return busy * TICK_MS;
  } catch {
    return 0;
  }
}
