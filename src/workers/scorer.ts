import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Benchmark, BenchmarkCatalog } from '../core/benchmarks.ts';
import { describeError } from '../core/errors.ts';
import { noteOutcome } from '../core/guards.ts';
import type { CandidateVerdict, Item, ItemRecord, ScoreResult } from '../core/items.ts';
import { compactResult, RolloutJobData, ScoreJobData, type ScoreJobResult } from '../core/jobs.ts';
import { keys, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import { redactDeep } from '../core/redact.ts';
import type { Registry } from '../core/registry.ts';
import { DEFAULT_STORAGE_DEADLINE_MS, withStorageRetry } from '../data/storage-retry.ts';
import type { DataStore } from '../data/store.ts';
import { itemDone, watchWorker } from '../metrics/index.ts';
import { PolicyCache } from '../policies/index.ts';
import { DatasetGuard, refuseUnlessHeld } from './datasets.ts';
import { bullOptions, redacting, SweepCache, sweepBenchmark, type WorkerSettings } from './runtime.ts';

export interface ScorerOptions extends WorkerSettings {
  store: DataStore;
  catalog: BenchmarkCatalog;
  registry: Registry;
  /**
   * Scores a finished rollout and builds its record (src/scoring's recordFromRollout);
   * injected so workers do not depend on scoring.
   */
  makeRecord: (
    rollout: RolloutJobData,
    item: Item,
    benchmark: Benchmark,
    opts: {
      combine?: ((verdicts: CandidateVerdict[]) => ScoreResult) | undefined;
      answerOf?: ((output: string) => string) | undefined;
      mode: 'official' | 'lenient';
      /** The sweep's judge model, for scorers of record that ask one. */
      judge?: { name: string; model: string } | undefined;
    },
  ) => Promise<ItemRecord>;
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

  const reuse = (existing: ItemRecord) => reuseRecord(opts.connection, opts.prefix, existing);
  const finishedRollout = (rolloutId: string) => rolloutToScore(rollouts, rolloutId);

  async function process(job: Job, token?: string): Promise<ScoreJobResult> {
    const parsed = ScoreJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid scoring payload: ${parsed.error.issues[0]?.message}`);
    const { sweepId, rolloutId } = parsed.data;
    const existing = await opts.store.readRecord(sweepId, rolloutId);
    if (existing) return reuse(existing);
    const rollout = await finishedRollout(rolloutId);
    const meta = await sweeps.get(sweepId);
    await refuseUnlessHeld(datasets, meta, job, token, opts.onRefuse);
    const { policy } = policies.get(meta, rollout.policy);
    const item = await opts.store.item(rollout.benchmark, rollout.itemId);
    // Traces may carry what an endpoint echoed (error texts): no key reaches a record.
    const record = redactDeep(
      await opts.makeRecord(rollout, item, sweepBenchmark(meta, rollout.benchmark, opts.catalog), {
        combine: policy.combine?.bind(policy),
        answerOf: policy.answerOf?.bind(policy),
        mode: meta.scoring ?? 'official',
        judge: meta.judge,
      }),
    );
    // A full disk or an unwritable folder is waited out (until the deadline): the item is
    // not turned into a failure by an outage of the data directory.
    const created = await withStorageRetry(() => opts.store.createRecord(record), {
      deadlineMs: opts.storageDeadlineMs ?? DEFAULT_STORAGE_DEADLINE_MS,
      path: opts.store.recordPath(sweepId, rolloutId),
      log: (line) => log(`[scorer] ${line}`),
    });
    if (!created) {
      // Another scorer wrote it meanwhile (the same job run twice at once): keep theirs.
      const theirs = await opts.store.readRecord(sweepId, rolloutId);
      if (theirs) return reuse(theirs);
      throw new Error(`record of ${rolloutId} exists but cannot be read`);
    }
    await opts.connection
      .multi()
      .hincrby(keys.scored(opts.prefix, sweepId), rolloutId, 1)
      .hset(keys.done(opts.prefix, sweepId), rolloutId, compactResult(record))
      .exec();
    itemDone(record.status);
    const paused = await noteOutcome(opts.connection, opts.prefix, sweepId, meta.pauseOnErrors, record);
    if (paused) console.error(`[scorer] sweep ${sweepId} paused: ${paused.reason}`);
    return { status: record.status, correct: record.correct, score: record.score };
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

/** Keeps Redis in line with a record written earlier; no second record is written. */
async function reuseRecord(conn: Redis, prefix: string, existing: ItemRecord): Promise<ScoreJobResult> {
  // `scored` is set to 1 only if absent: a Redis that lost its last second of writes
  // (AOF everysec) may have lost the increment of the first write.
  await conn
    .multi()
    .hsetnx(keys.scored(prefix, existing.sweepId), existing.rolloutId, 1)
    .hset(keys.done(prefix, existing.sweepId), existing.rolloutId, compactResult(existing))
    .exec();
  return { status: existing.status, correct: existing.correct, score: existing.score };
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
