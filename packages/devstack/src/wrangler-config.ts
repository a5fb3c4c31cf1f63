// Reads the workers' wrangler.toml files so the local stack runs with the same entry points,
// compatibility settings, vars and bindings that `wrangler deploy` uses.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "smol-toml";

export interface WranglerConfig {
  dir: string;
  name: string;
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
  queueProducers: Array<{ binding: string; queue: string }>;
  queueConsumers: Array<{
    queue: string;
    maxBatchSize?: number;
    maxRetries?: number;
    deadLetterQueue?: string;
  }>;
  services: Array<{ binding: string; service: string; entrypoint?: string }>;
  /**
   * Durable Object bindings (`[[durable_objects.bindings]]`); `sqlite` when a `[[migrations]]` entry
   * lists the class under `new_sqlite_classes`, as wrangler decides the storage backend.
   */
  durableObjects: Array<{ binding: string; className: string; scriptName?: string; sqlite: boolean }>;
  /** Module aliases (`[alias]`), resolved against the config's folder as wrangler does. */
  alias: Record<string, string>;
}

type Toml = Record<string, unknown>;

const asArray = (v: unknown): Toml[] => (Array.isArray(v) ? (v as Toml[]) : []);

export async function readWranglerConfig(file: string): Promise<WranglerConfig> {
  const doc = parse(await readFile(file, "utf8")) as Toml;
  const dir = path.dirname(file);
  const queues = (doc.queues ?? {}) as Toml;
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries((doc.vars ?? {}) as Toml)) vars[k] = String(v);
  const alias: Record<string, string> = {};
  for (const [k, v] of Object.entries((doc.alias ?? {}) as Toml)) alias[k] = path.resolve(dir, String(v));
  return {
    dir,
    name: String(doc.name),
    main: path.resolve(dir, String(doc.main)),
    compatibilityDate: String(doc.compatibility_date),
    compatibilityFlags: (doc.compatibility_flags as string[] | undefined) ?? [],
    vars,
    alias,
    queueProducers: asArray(queues.producers).map((p) => ({
      binding: String(p.binding),
      queue: String(p.queue),
    })),
    queueConsumers: asArray(queues.consumers).map((c) => ({
      queue: String(c.queue),
      ...(c.max_batch_size === undefined ? {} : { maxBatchSize: Number(c.max_batch_size) }),
      ...(c.max_retries === undefined ? {} : { maxRetries: Number(c.max_retries) }),
      ...(c.dead_letter_queue === undefined ? {} : { deadLetterQueue: String(c.dead_letter_queue) }),
    })),
    durableObjects: asArray(((doc.durable_objects ?? {}) as Toml).bindings).map((d) => ({
      binding: String(d.name),
      className: String(d.class_name),
      ...(d.script_name === undefined ? {} : { scriptName: String(d.script_name) }),
      sqlite: asArray(doc.migrations).some((m) =>
        ((m.new_sqlite_classes as unknown[] | undefined) ?? []).includes(d.class_name),
      ),
    })),
    services: asArray(doc.services).map((s) => ({
      binding: String(s.binding),
      service: String(s.service),
      ...(s.entrypoint === undefined ? {} : { entrypoint: String(s.entrypoint) }),
    })),
  };
}
