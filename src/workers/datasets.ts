import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys } from '../core/queues.ts';
import { SweepMeta } from '../core/sweep.ts';
import { type DataStore, DatasetManifest } from '../data/store.ts';

/** A dataset of a sweep that this host's data directory lacks, or holds in another version. */
export interface DatasetProblem {
  benchmark: string;
  /** The version the sweep was planned with. */
  expected: string;
  /** The version here; null when not imported. */
  found: string | null;
}

/** The version of a dataset in this data directory, or null when it is not imported. */
async function versionHere(store: DataStore, benchmark: string): Promise<string | null> {
  if (!store.hasDataset(benchmark)) return null;
  const file = join(store.datasetDir(benchmark), 'manifest.json');
  const parsed = DatasetManifest.safeParse(JSON.parse(await readFile(file, 'utf8')));
  return parsed.success ? parsed.data.version : null;
}

/** The datasets of a sweep this data directory lacks or holds in another version. */
export async function datasetProblems(store: DataStore, meta: SweepMeta): Promise<DatasetProblem[]> {
  const problems: DatasetProblem[] = [];
  for (const b of meta.benchmarks) {
    const found = await versionHere(store, b.id);
    if (found !== b.version) problems.push({ benchmark: b.id, expected: b.version, found });
  }
  return problems;
}

/** What to tell the operator of this host: what is missing and exactly what to run here. */
export function datasetRefusal(store: DataStore, meta: SweepMeta, problems: DatasetProblem[]): string {
  const defs = new Map((meta.catalog ?? []).map((d) => [d.id, d]));
  const lines = [`this host's data directory ${store.root} cannot serve sweep ${meta.id}:`];
  for (const p of problems) {
    lines.push(
      p.found === null
        ? `  ${p.benchmark}: not imported here (the sweep uses version ${p.expected.slice(0, 12)})`
        : `  ${p.benchmark}: version ${p.found.slice(0, 12)} here, the sweep uses ${p.expected.slice(0, 12)}`,
    );
  }
  lines.push('run on this host, with the same files the submitting host imported:');
  for (const p of problems) {
    const def = defs.get(p.benchmark);
    const format = def?.import ? ` --format ${def.import.format}` : '';
    const from = def ? ` (${def.name}: ${def.source}, split ${def.split})` : '';
    lines.push(`  maestro-eval data import FILES${from} --benchmark ${p.benchmark}${format}`);
  }
  lines.push(
    'or point MAESTRO_DATA_DIR at the shared data directory (or sync its datasets/ and images/ folders); see docs/scaling.md',
  );
  return lines.join('\n');
}

/**
 * Checks each sweep once per process (its datasets never change): the first rollout of a
 * sweep on this host asks, later ones get the cached answer.
 */
export class DatasetGuard {
  private readonly checked = new Map<string, Promise<string | null>>();
  constructor(private readonly store: DataStore) {}

  /** null when this host holds every dataset of the sweep; else the refusal text. */
  check(meta: SweepMeta): Promise<string | null> {
    let hit = this.checked.get(meta.id);
    if (!hit) {
      hit = datasetProblems(this.store, meta).then((p) =>
        p.length ? datasetRefusal(this.store, meta, p) : null,
      );
      this.checked.set(meta.id, hit);
    }
    return hit;
  }
}

/**
 * At start-up: the sweeps in Redis with work left (fewer items done than submitted) whose
 * datasets this host lacks. Returns the refusal texts (empty when all is well).
 */
export async function refusalsAtStartup(conn: Redis, prefix: string, store: DataStore): Promise<string[]> {
  const guard = new DatasetGuard(store);
  const out: string[] = [];
  for (const id of await conn.smembers(keys.sweeps(prefix))) {
    const raw = await conn.get(keys.sweep(prefix, id));
    const meta = raw ? SweepMeta.safeParse(JSON.parse(raw)) : null;
    if (!meta?.success) continue;
    const [done, submitted] = await Promise.all([
      conn.hlen(keys.done(prefix, id)),
      conn.hvals(keys.submitted(prefix, id)),
    ]);
    const total = submitted.reduce((a, n) => a + Number(n), 0);
    if (done >= total) continue;
    const refusal = await guard.check(meta.data);
    if (refusal) out.push(refusal);
  }
  return out;
}

/** How long a refused job waits before a worker (on any host) takes it again. */
export const REFUSED_RETRY_MS = 5_000;

/**
 * Refuses a job of a sweep this host cannot serve: the operator is told (`onRefuse`) and the
 * job goes back to the queue untouched (no attempt spent) for a host that has the data.
 */
export async function refuseUnlessHeld(
  guard: DatasetGuard,
  meta: SweepMeta,
  job: Job,
  token: string | undefined,
  onRefuse: ((text: string) => void) | undefined,
): Promise<void> {
  const refusal = await guard.check(meta);
  if (!refusal || !token) return;
  onRefuse?.(refusal);
  await job.moveToDelayed(Date.now() + REFUSED_RETRY_MS, token);
  throw new DelayedError();
}
