import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigError } from '../core/errors.ts';
import type { RolloutJobData } from '../core/jobs.ts';
import { keys, ROLLOUT_QUEUE } from '../core/queues.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import { rolloutJobOptions, type SubmitResult, saveSweepMeta } from './submit.ts';

export interface FeedOptions {
  /** At most this many rollouts queued or in flight (the rollout queue's unfinished jobs). */
  window: number;
  /** How often the queue is looked at while the window is full (ms). Default 200. */
  pollMs?: number;
  /**
   * Called while the window is full, instead of sleeping (a dry run finishes the window's
   * rollouts here; tests and the bench use it).
   */
  whenFull?: () => Promise<void>;
  /** After each chunk added. */
  onProgress?: (r: SubmitResult & { outstanding: number }) => void;
}

/** Unfinished rollout jobs (waiting, active, waiting for children, delayed, prioritized). */
export async function outstandingRollouts(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'active', 'waiting-children', 'delayed', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/**
 * Windowed submission: adds the rollouts in plan order, never letting the rollout queue
 * hold more than `window` unfinished jobs, and tops it up as rollouts finish. Redis holds
 * at most the window's jobs (plus the last `window` completed ones, kept so a lost done
 * entry can be re-derived), whatever the size of the sweep. Idempotent and resumable like
 * `submitSweep`: a rollout already scored or already queued is skipped (the ids are
 * deterministic), so a feeder restarted after a crash, or two feeders, add nothing twice.
 */
export async function feedSweep(
  conn: Redis,
  prefix: string,
  store: DataStore,
  meta: SweepMeta,
  rollouts: Iterable<RolloutJobData>,
  opts: FeedOptions,
): Promise<SubmitResult> {
  if (!Number.isInteger(opts.window) || opts.window < 1)
    throw new ConfigError('(sweep)', '--window', `expected a positive integer, got ${opts.window}`);
  await saveSweepMeta(conn, prefix, store, meta);
  const queue = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  const result: SubmitResult = { sweepId: meta.id, planned: 0, done: 0, inFlight: 0, added: 0 };
  const jobOpts = { ...rolloutJobOptions(), removeOnComplete: { count: opts.window } };
  const source = rollouts[Symbol.iterator]();
  let exhausted = false;
  try {
    while (!exhausted) {
      let room = opts.window - (await outstandingRollouts(queue));
      if (room <= 0) {
        await (opts.whenFull?.() ?? sleep(opts.pollMs ?? 200));
        continue;
      }
      while (room > 0 && !exhausted) {
        const chunk: RolloutJobData[] = [];
        for (let next = source.next(); ; next = source.next()) {
          if (next.done) {
            exhausted = true;
            break;
          }
          chunk.push(next.value);
          if (chunk.length >= Math.min(room, 500)) break;
        }
        result.planned += chunk.length;
        const todo = await unsubmitted(conn, prefix, meta.id, chunk, result);
        if (todo.length)
          await queue.addBulk(
            todo.map((r) => ({ name: 'rollout', data: r, opts: { ...jobOpts, jobId: r.rolloutId } })),
          );
        result.added += todo.length;
        room -= todo.length;
        opts.onProgress?.({ ...result, outstanding: opts.window - room });
      }
    }
  } finally {
    await queue.close();
  }
  return result;
}

/** The rollouts of a chunk neither scored nor queued; counts the others into `result`. */
async function unsubmitted(
  conn: Redis,
  prefix: string,
  sweepId: string,
  chunk: RolloutJobData[],
  result: SubmitResult,
): Promise<RolloutJobData[]> {
  const doneKey = keys.done(prefix, sweepId);
  const pipe = conn.pipeline();
  for (const r of chunk) {
    pipe.hexists(doneKey, r.rolloutId);
    pipe.exists(`${prefix}:${ROLLOUT_QUEUE}:${r.rolloutId}`);
  }
  const replies = (await pipe.exec()) ?? [];
  return chunk.filter((_, j) => {
    if (replies[2 * j]?.[1] === 1) result.done++;
    else if (replies[2 * j + 1]?.[1] === 1) result.inFlight++;
    else return true;
    return false;
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
