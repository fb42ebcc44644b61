import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { compactResult, ScoreJobResult } from '../core/jobs.ts';
import { expertQueueName, keys, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import type { Registry } from '../core/registry.ts';
import { SweepMeta } from '../core/sweep.ts';

export interface BenchmarkProgress {
  benchmark: string;
  total: number;
  done: number;
  correct: number;
  errors: number;
}

/** Progress of one policy on one benchmark (totals count every seed and sample). */
export interface CellProgress extends BenchmarkProgress {
  policy: string;
}

export interface SweepProgress {
  sweepId: string;
  total: number;
  done: number;
  errors: number;
  /** Rollouts that failed outright (not scored): need `sweep --retry-failed`. */
  failed: number;
  benchmarks: BenchmarkProgress[];
  /** Per benchmark and policy, from the same hash read. */
  cells: CellProgress[];
}

export async function readSweepMeta(conn: Redis, prefix: string, sweepId: string): Promise<SweepMeta | null> {
  const raw = await conn.get(keys.sweep(prefix, sweepId));
  return raw ? SweepMeta.parse(JSON.parse(raw)) : null;
}

export async function listSweeps(conn: Redis, prefix: string): Promise<SweepMeta[]> {
  const ids = await conn.smembers(keys.sweeps(prefix));
  const metas = (await Promise.all(ids.map((id) => readSweepMeta(conn, prefix, id)))).filter(
    (m): m is SweepMeta => m !== null,
  );
  return metas.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Progress of a sweep from the compact results (one hash read) and the failed set. Totals
 * count the rollouts submitted so far (a `--policies`/`--benchmarks`/`--limit` run counts
 * only what it enqueued); a sweep submitted by an older version counts its whole plan.
 */
export async function sweepProgress(
  conn: Redis,
  prefix: string,
  meta: SweepMeta,
  failedIds?: Set<string>,
): Promise<SweepProgress> {
  const [entries, submitted] = await Promise.all([
    conn.hgetall(keys.done(prefix, meta.id)),
    conn.hgetall(keys.submitted(prefix, meta.id)),
  ]);
  const known = Object.keys(submitted).length > 0;
  const perCell = new Map<string, CellProgress>();
  for (const b of meta.benchmarks) {
    for (const p of meta.policies) {
      const planned = b.count * meta.seeds.length * (p.samples ?? 1);
      const total = known ? Number(submitted[`${b.id}|${p.key}`] ?? 0) : planned;
      perCell.set(`${b.id}|${p.key}`, {
        benchmark: b.id,
        policy: p.key,
        total,
        done: 0,
        correct: 0,
        errors: 0,
      });
    }
  }
  let errors = 0;
  for (const value of Object.values(entries)) {
    const [status, correct, benchmark, ...policy] = value.split('|');
    const cell = perCell.get(`${benchmark}|${policy.join('|')}`);
    if (!cell) continue;
    cell.done++;
    if (correct === '1') cell.correct++;
    if (status === 'error') {
      cell.errors++;
      errors++;
    }
  }
  const cells = [...perCell.values()].filter((c) => c.total > 0 || c.done > 0);
  const perBench = new Map<string, BenchmarkProgress>();
  for (const c of cells) {
    const row = perBench.get(c.benchmark) ?? {
      benchmark: c.benchmark,
      total: 0,
      done: 0,
      correct: 0,
      errors: 0,
    };
    row.total += c.total;
    row.done += c.done;
    row.correct += c.correct;
    row.errors += c.errors;
    perBench.set(c.benchmark, row);
  }
  const benchmarks = meta.benchmarks.flatMap((b) => perBench.get(b.id) ?? []);
  return {
    sweepId: meta.id,
    total: benchmarks.reduce((a, b) => a + b.total, 0),
    done: Object.keys(entries).length,
    errors,
    failed: failedIds?.size ?? 0,
    benchmarks,
    cells,
  };
}

/** Job counts of every queue of the cluster. */
export async function queueCounts(conn: Redis, prefix: string, registry: Registry) {
  const names = [ROLLOUT_QUEUE, SCORE_QUEUE, ...registry.experts.map((e) => expertQueueName(e.name))];
  const out: Array<{ queue: string; counts: Record<string, number> }> = [];
  for (const name of names) {
    const q = new Queue(name, { connection: conn, prefix });
    out.push({
      queue: name,
      counts: await q.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'waiting-children',
        'completed',
        'failed',
        'prioritized',
      ),
    });
    await q.close();
  }
  return out;
}

/** Ids of rollouts of a sweep that failed outright (attempts exhausted). */
export async function failedRollouts(conn: Redis, prefix: string, sweepId: string): Promise<Set<string>> {
  const q = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  try {
    const failed = await q.getFailed(0, -1);
    return new Set(failed.filter((j) => j.data?.sweepId === sweepId).map((j) => j.id!));
  } finally {
    await q.close();
  }
}

/**
 * Re-derives the `done` entries of rollouts whose job has completed but whose entry is
 * missing, from the job's own return value (stored by BullMQ atomically with the
 * completion). The scorer writes the entry before its job completes, but a Redis that
 * loses its last second of writes (`appendfsync everysec` and an OS crash) can lose that
 * entry while a completion sent after the restart lands. A completed rollout means its
 * scoring child completed, so its record exists and was written once: `scored` is set to 1
 * where absent, as the scorer's own reuse path does. Returns the ids repaired.
 */
export async function repairDoneIndex(
  conn: Redis,
  prefix: string,
  sweepId: string,
  rolloutIds: readonly string[],
): Promise<string[]> {
  const q = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  const repaired: string[] = [];
  try {
    for (const id of rolloutIds) {
      const job = await q.getJob(id);
      if (!job?.finishedOn || job.failedReason || job.data?.sweepId !== sweepId) continue;
      const result = ScoreJobResult.safeParse(job.returnvalue);
      const benchmark = job.data?.benchmark;
      const policy = job.data?.policy;
      if (!result.success || typeof benchmark !== 'string' || typeof policy !== 'string') continue;
      await conn
        .multi()
        .hsetnx(keys.scored(prefix, sweepId), id, 1)
        .hsetnx(keys.done(prefix, sweepId), id, compactResult({ ...result.data, benchmark, policy }))
        .exec();
      repaired.push(id);
    }
  } finally {
    await q.close();
  }
  return repaired;
}
