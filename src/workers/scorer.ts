import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import { describeError } from '../core/errors.ts';
import { RolloutJobData, ScoreJobData, type ScoreJobResult } from '../core/jobs.ts';
import { ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import type { Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import { watchWorker } from '../metrics/index.ts';
import { PolicyCache } from '../policies/index.ts';
import { DatasetGuard, refuseUnlessHeld } from './datasets.ts';
import { type MakeRecord, recordedResult, writeRecord } from './record.ts';
import { bullOptions, redacting, SweepCache, type WorkerSettings } from './runtime.ts';

export interface ScorerOptions extends WorkerSettings {
  store: DataStore;
  catalog: BenchmarkCatalog;
  registry: Registry;
  makeRecord: MakeRecord;
  /** Scoring jobs at once (code execution runs in child processes). Default 4. */
  concurrency?: number;
  /** How long a record write is retried through storage errors (ms). Default 15 minutes. */
  storageDeadlineMs?: number;
  log?: (line: string) => void;
}

/**
 * Scorer: turns a finished rollout into its durable record. It reads the rollout's trace
 * from the parent job, applies the benchmark's metric, writes the record (fsync'd) and the
 * compact result, and only then completes, which lets the rollout complete. A record that
 * already exists (a retry after a crash) is reused, so an item is never scored twice.
 */
export function startScorer(opts: ScorerOptions) {
  const log = opts.log ?? ((l: string) => console.error(l));
  const rollouts = new Queue(ROLLOUT_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  const sweeps = new SweepCache(opts.connection, opts.prefix);
  const policies = new PolicyCache(opts.registry);
  const datasets = new DatasetGuard(opts.store);
  const finishedRollout = (rolloutId: string) => rolloutToScore(rollouts, rolloutId);

  async function process(job: Job, token?: string): Promise<ScoreJobResult> {
    const parsed = ScoreJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid scoring payload: ${parsed.error.issues[0]?.message}`);
    const { sweepId, rolloutId } = parsed.data;
    const existing = await recordedResult(opts, sweepId, rolloutId);
    if (existing) return existing;
    const rollout = await finishedRollout(rolloutId);
    const meta = await sweeps.get(sweepId);
    await refuseUnlessHeld(datasets, meta, job, token, opts.onRefuse);
    const { policy } = policies.get(meta, rollout.policy);
    const item = await opts.store.item(rollout.benchmark, rollout.itemId);
    return writeRecord(opts, rollout, item, meta, policy, 'scorer');
  }

  // Temp files of writes cut short by a killed scorer.
  opts.store.removeStaleTemps().then(
    (removed) => {
      if (removed.length)
        log(`[scorer] removed ${removed.length} stale temp files of unfinished record writes`);
    },
    () => {},
  );
  const worker = new Worker(SCORE_QUEUE, redacting(process), {
    ...bullOptions(opts),
    concurrency: opts.concurrency ?? 4,
  });
  worker.on('error', (err) => console.error(`[scorer] ${describeError(err)}`));
  watchWorker(worker, SCORE_QUEUE);
  return {
    worker,
    async close() {
      await worker.close();
      await rollouts.close();
    },
  };
}

/** The rollout waiting for this scoring job, checked to be in the scoring phase. */
async function rolloutToScore(rollouts: Queue, rolloutId: string): Promise<RolloutJobData> {
  const parent = await Job.fromId(rollouts, rolloutId);
  if (!parent) throw new Error(`rollout ${rolloutId} not found`);
  const rollout = RolloutJobData.parse(parent.data);
  if (rollout.state.phase !== 'scoring') {
    // Only a rollout that has finished its policy phase waits for scoring. Anything else
    // is a stale job (e.g. Redis restored to an earlier moment): score nothing from it.
    throw new Error(`rollout ${rolloutId} is not waiting for scoring (phase ${rollout.state.phase})`);
  }
  return rollout;
}
