import type { Redis } from 'ioredis';
import type { Benchmark, BenchmarkCatalog } from '../core/benchmarks.ts';
import { countRecord } from '../core/guards.ts';
import type { CandidateVerdict, Item, ItemRecord, ScoreResult } from '../core/items.ts';
import { compactResult, type RolloutJobData, type RolloutState, type ScoreJobResult } from '../core/jobs.ts';
import { keys } from '../core/queues.ts';
import { redactDeep } from '../core/redact.ts';
import type { SweepMeta } from '../core/sweep.ts';
import { DEFAULT_STORAGE_DEADLINE_MS, withStorageRetry } from '../data/storage-retry.ts';
import type { DataStore } from '../data/store.ts';
import { itemDone } from '../metrics/index.ts';
import type { Policy } from '../policies/index.ts';
import { sweepBenchmark } from './runtime.ts';

/**
 * Scores a finished rollout and builds its record (src/scoring's recordFromRollout);
 * injected so workers do not depend on scoring.
 */
export type MakeRecord = (
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

/** What writing a rollout's record needs: the data directory, Redis, the metric. */
export interface RecordDeps {
  connection: Redis;
  prefix: string;
  store: DataStore;
  catalog: BenchmarkCatalog;
  makeRecord: MakeRecord;
  /** How long a record write is retried through storage errors (ms). Default 15 minutes. */
  storageDeadlineMs?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

const resultOf = (r: ItemRecord): ScoreJobResult => ({
  status: r.status,
  correct: r.correct,
  score: r.score,
});

/** Keeps Redis in line with a record written earlier; no second record is written. */
async function reuseRecord(deps: RecordDeps, existing: ItemRecord): Promise<ScoreJobResult> {
  // `scored` is set to 1 only if absent: a Redis that lost its last second of writes
  // (AOF everysec) may have lost the increment of the first write.
  await deps.connection
    .multi()
    .hsetnx(keys.scored(deps.prefix, existing.sweepId), existing.rolloutId, 1)
    .hset(keys.done(deps.prefix, existing.sweepId), existing.rolloutId, compactResult(existing))
    .exec();
  return resultOf(existing);
}

/**
 * The result of a rollout whose record exists (a retry after a crash), with Redis put in
 * line with it; null when there is no record yet. No second record is ever written.
 */
export async function recordedResult(
  deps: RecordDeps,
  sweepId: string,
  rolloutId: string,
): Promise<ScoreJobResult | null> {
  const existing = await deps.store.readRecord(sweepId, rolloutId);
  return existing ? reuseRecord(deps, existing) : null;
}

/**
 * Applies the benchmark's metric to a finished rollout, writes its durable record (fsync'd,
 * created once, storage errors waited out until the deadline), then its compact result and
 * count in Redis, and notes the outcome for the sweep's error threshold. The caller
 * completes the rollout only after this returns.
 */
export async function writeRecord(
  deps: RecordDeps,
  rollout: RolloutJobData,
  item: Item,
  meta: SweepMeta,
  policy: Policy,
  who: string,
): Promise<ScoreJobResult> {
  const { sweepId, rolloutId } = rollout;
  const log = deps.log ?? ((l: string) => console.error(l));
  // Traces may carry what an endpoint echoed (error texts): no key reaches a record.
  const record = redactDeep(
    await deps.makeRecord(rollout, item, sweepBenchmark(meta, rollout.benchmark, deps.catalog), {
      combine: policy.combine?.bind(policy),
      answerOf: policy.answerOf?.bind(policy),
      mode: meta.scoring ?? 'official',
      judge: meta.judge,
    }),
  );
  // A full disk or an unwritable folder is waited out (until the deadline): the item is
  // not turned into a failure by an outage of the data directory.
  const created = await withStorageRetry(() => deps.store.createRecord(record), {
    deadlineMs: deps.storageDeadlineMs ?? DEFAULT_STORAGE_DEADLINE_MS,
    path: deps.store.recordPath(sweepId, rolloutId),
    log: (line) => log(`[${who}] ${line}`),
  });
  if (!created) {
    // Another process wrote it meanwhile (the same rollout run twice at once): keep theirs.
    const theirs = await recordedResult(deps, sweepId, rolloutId);
    if (theirs) return theirs;
    throw new Error(`record of ${rolloutId} exists but cannot be read`);
  }
  const paused = await countRecord(
    deps.connection,
    deps.prefix,
    sweepId,
    { rolloutId, compact: compactResult(record), status: record.status, error: record.error },
    meta.pauseOnErrors,
  );
  itemDone(record.status);
  if (paused) console.error(`[${who}] sweep ${sweepId} paused: ${paused.reason}`);
  return resultOf(record);
}

/** Scoring in the rollout's last step: the metric, and which benchmarks' metrics are cheap. */
export interface InlineScoring {
  makeRecord: MakeRecord;
  /** Whether a benchmark's metric is cheap in this sweep (a judge model is a network call). */
  cheap: (benchmark: Benchmark, meta: SweepMeta) => boolean;
  storageDeadlineMs?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

type InlineScorerFactory = (
  data: RolloutJobData,
  item: Item,
  meta: SweepMeta,
  policy: Policy,
) => ((state: RolloutState) => Promise<ScoreJobResult>) | undefined;

/**
 * How a rollout of this process is scored in its last step, when inline scoring is on and
 * its benchmark's metric is cheap; undefined otherwise (a scoring child job).
 */
export function inlineScorer(
  opts: Pick<RecordDeps, 'connection' | 'prefix' | 'store' | 'catalog'>,
  inline: InlineScoring | undefined,
): InlineScorerFactory {
  const deps: RecordDeps | undefined = inline && {
    connection: opts.connection,
    prefix: opts.prefix,
    store: opts.store,
    catalog: opts.catalog,
    makeRecord: inline.makeRecord,
    storageDeadlineMs: inline.storageDeadlineMs,
    log: inline.log,
  };
  return (data: RolloutJobData, item: Item, meta: SweepMeta, policy: Policy) => {
    if (!deps || !inline?.cheap(sweepBenchmark(meta, data.benchmark, deps.catalog), meta)) return undefined;
    // No look for an existing record first: the metric is cheap, and a record written
    // before a crash makes the create fail, and that record is the one kept.
    return (state: RolloutState) => writeRecord(deps, { ...data, state }, item, meta, policy, 'orchestrator');
  };
}
