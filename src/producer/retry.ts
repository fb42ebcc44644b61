import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { clearPause, type PauseInfo, readPause } from '../core/guards.ts';
import { keys, ROLLOUT_QUEUE } from '../core/queues.ts';
import type { DataStore } from '../data/store.ts';
import type { SweepPlan } from './plan.ts';
import { failedRollouts } from './progress.ts';

export interface ResetResult {
  sweepId: string;
  /** Rollouts recorded with status 'error' (a record exists, or the compact result says so). */
  errors: number;
  /** Rollouts whose job failed outright (attempts exhausted, no record). */
  failed: number;
  /** Ids made ready to run again (record, done/scored entries and jobs removed). */
  reset: string[];
  /** Ids left alone because their job is still running (an orchestrator holds it). */
  busy: string[];
}

/**
 * Makes the errored rollouts of a sweep runnable again: for each rollout of the plan recorded
 * as an error (or failed outright), removes its finished rollout job with its children (so the
 * same deterministic child ids can be added again), its record file, and its `done` and
 * `scored` entries. The caller then submits the plan restricted to `reset`.
 *
 * Idempotent and crash-safe: errors are found both from the records and from the `done`
 * hash, and the entries are removed in the order job → record → hashes, so a run interrupted
 * half-way is finished by the next one.
 */
export async function resetErroredRollouts(
  conn: Redis,
  prefix: string,
  store: DataStore,
  plan: SweepPlan,
): Promise<ResetResult> {
  const sweepId = plan.meta.id;
  const inPlan = new Set(plan.rollouts.map((r) => r.rolloutId));
  const errored = new Set<string>();
  for (const record of await store.readRecords(sweepId)) {
    if (record.status === 'error' && inPlan.has(record.rolloutId)) errored.add(record.rolloutId);
  }
  for (const [id, compact] of Object.entries(await conn.hgetall(keys.done(prefix, sweepId)))) {
    if (compact.startsWith('error|') && inPlan.has(id)) errored.add(id);
  }
  const failed = [...(await failedRollouts(conn, prefix, sweepId))].filter(
    (id) => inPlan.has(id) && !errored.has(id),
  );
  const result: ResetResult = { sweepId, errors: errored.size, failed: failed.length, reset: [], busy: [] };
  const queue = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  try {
    for (const id of [...errored, ...failed].sort()) {
      const job = await Job.fromId(queue, id);
      if (job) {
        const state = await job.getState();
        // A rollout that is not finished is still being worked on: leave it to its worker.
        if (state !== 'completed' && state !== 'failed') {
          result.busy.push(id);
          continue;
        }
        await job.remove({ removeChildren: true });
      }
      await store.removeRecords(sweepId, [id]);
      await store.removeFailure(sweepId, id);
      await conn.multi().hdel(keys.done(prefix, sweepId), id).hdel(keys.scored(prefix, sweepId), id).exec();
      result.reset.push(id);
    }
  } finally {
    await queue.close();
  }
  return result;
}

export interface ResumeResult {
  sweepId: string;
  /** The pause that was lifted, if the sweep was paused. */
  lifted: PauseInfo | null;
  /** Not-yet-started rollouts moved from delayed back to waiting. */
  promoted: number;
}

/**
 * Lifts a sweep's pause (error threshold) and starts the rollouts that orchestrators delayed
 * while it was paused, without waiting for their next check.
 */
export async function resumeSweep(conn: Redis, prefix: string, sweepId: string): Promise<ResumeResult> {
  const lifted = await readPause(conn, prefix, sweepId);
  await clearPause(conn, prefix, sweepId);
  const queue = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  let promoted = 0;
  try {
    for (const job of await queue.getDelayed(0, -1)) {
      const data = job.data as { sweepId?: string; state?: { steps?: unknown[]; pending?: unknown[] } };
      if (data?.sweepId !== sweepId) continue;
      if ((data.state?.steps?.length ?? 0) > 0 || (data.state?.pending?.length ?? 0) > 0) continue;
      try {
        await job.promote();
        promoted++;
      } catch {
        // Taken or promoted meanwhile: nothing to do.
      }
    }
  } finally {
    await queue.close();
  }
  return { sweepId, lifted, promoted };
}
