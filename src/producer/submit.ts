import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_SIZE_LIMITS } from '../core/jobs.ts';
import { keys, ROLLOUT_QUEUE } from '../core/queues.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import { writeFileAtomic } from '../data/store.ts';
import type { SweepPlan } from './plan.ts';
import { ensureRun } from './run.ts';

export interface SubmitResult {
  sweepId: string;
  planned: number;
  /** Already scored (skipped). */
  done: number;
  /** Already queued or running (skipped). */
  inFlight: number;
  /** Newly enqueued. */
  added: number;
}

/** Attempts of a rollout job for retryable failures (policy endpoint down, Redis blips). */
export const ROLLOUT_ATTEMPTS = 5;

/** Options of a rollout job (its id aside). */
export function rolloutJobOptions() {
  return {
    attempts: ROLLOUT_ATTEMPTS,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: false as boolean | { count: number },
    removeOnFail: false,
    sizeLimit: JOB_SIZE_LIMITS.rollout,
  };
}

/** Rollout jobs per `addBulk`: the first batch, then the others. */
const FIRST_BATCH = 64;
const BATCH = 500;

/**
 * Enqueues the rollouts of a plan that are neither scored nor already queued. Adding a
 * job whose id exists is a no-op in BullMQ, so two producers racing on the same sweep
 * cannot duplicate work either.
 */
export async function submitSweep(
  conn: Redis,
  prefix: string,
  store: DataStore,
  plan: SweepPlan,
  opts: { dryRun?: boolean; onProgress?: (added: number, total: number) => void } = {},
): Promise<SubmitResult> {
  const { meta, rollouts } = plan;
  const doneKey = keys.done(prefix, meta.id);
  const result: SubmitResult = { sweepId: meta.id, planned: rollouts.length, done: 0, inFlight: 0, added: 0 };
  const todo: SweepPlan['rollouts'] = [];
  const CHUNK = 1000;
  // A sweep Redis has no metadata of was never submitted (or was discarded): none of its
  // rollouts is done or queued, so none is looked up one by one.
  const known = (await conn.exists(keys.sweep(prefix, meta.id))) === 1;
  // One by one: push(...rollouts) overflows the stack past ~100,000 rollouts.
  if (!known) for (const r of rollouts) todo.push(r);
  for (let i = 0; known && i < rollouts.length; i += CHUNK) {
    const chunk = rollouts.slice(i, i + CHUNK);
    const pipe = conn.pipeline();
    for (const r of chunk) {
      pipe.hexists(doneKey, r.rolloutId);
      pipe.exists(`${prefix}:${ROLLOUT_QUEUE}:${r.rolloutId}`);
    }
    const replies = (await pipe.exec()) ?? [];
    chunk.forEach((r, j) => {
      const isDone = replies[2 * j]?.[1] === 1;
      const exists = replies[2 * j + 1]?.[1] === 1;
      if (isDone) result.done++;
      else if (exists) result.inFlight++;
      else todo.push(r);
    });
  }
  if (opts.dryRun) {
    result.added = todo.length;
    return result;
  }
  await saveSweepMeta(conn, prefix, store, meta);
  await noteSubmitted(conn, prefix, meta.id, rollouts);
  const queue = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  try {
    // A small first batch, so workers start while the rest is added.
    for (let i = 0, size = FIRST_BATCH; i < todo.length; i += size, size = BATCH) {
      const chunk = todo.slice(i, i + size);
      await queue.addBulk(
        chunk.map((r) => ({
          name: 'rollout',
          data: r,
          opts: { ...rolloutJobOptions(), jobId: r.rolloutId },
        })),
      );
      result.added += chunk.length;
      opts.onProgress?.(result.added, todo.length);
    }
  } finally {
    await queue.close();
  }
  return result;
}

/** Stores the sweep's metadata in Redis (for workers) and in the data directory (for reports). */
export async function saveSweepMeta(
  conn: Redis,
  prefix: string,
  store: DataStore,
  meta: SweepMeta,
): Promise<void> {
  const existing = await conn.get(keys.sweep(prefix, meta.id));
  const stored = existing ? { ...meta, createdAt: (JSON.parse(existing) as SweepMeta).createdAt } : meta;
  await conn
    .multi()
    .set(keys.sweep(prefix, meta.id), JSON.stringify(stored))
    .sadd(keys.sweeps(prefix), meta.id)
    .exec();
  await writeFileAtomic(`${store.sweepDir(meta.id)}/sweep.json`, `${JSON.stringify(stored, null, 2)}\n`);
  await ensureRun(conn, prefix, store, meta.id);
}

/** Raises a hash field to a value, never lowers it. */
const RAISE = `
for i = 1, #ARGV, 2 do
  local n = tonumber(ARGV[i + 1])
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if n > cur then redis.call('HSET', KEYS[1], ARGV[i], n) end
end
return 1`;

/** Records how many rollouts of each (benchmark, policy) cell were submitted, for `status`. */
export async function noteSubmitted(
  conn: Redis,
  prefix: string,
  sweepId: string,
  rollouts: SweepPlan['rollouts'],
): Promise<void> {
  const cells = new Map<string, number>();
  for (const r of rollouts) {
    const cell = `${r.benchmark}|${r.policy}`;
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
  }
  if (cells.size === 0) return;
  const args = [...cells.entries()].flatMap(([cell, n]) => [cell, String(n)]);
  await conn.eval(RAISE, 1, keys.submitted(prefix, sweepId), ...args);
}
