import type { Redis } from 'ioredis';
import type { Benchmark, BenchmarkCatalog } from '../core/benchmarks.ts';
import { noteOutcome } from '../core/guards.ts';
import type { CandidateVerdict, Item, ItemRecord, ScoreResult } from '../core/items.ts';
import { compactResult, type RolloutJobData, type RolloutState, type ScoreJobResult } from '../core/jobs.ts';
import { keys } from '../core/queues.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import { itemDone } from '../metrics/index.ts';
import type { Policy } from '../policies/index.ts';

/**
 * Scores a finished rollout and builds its record (src/scoring's recordFromRollout);
 * injected so workers do not depend on scoring.
 */
export type MakeRecord = (
  rollout: RolloutJobData,
  item: Item,
  benchmark: Benchmark,
  opts: { combine?: ((verdicts: CandidateVerdict[]) => ScoreResult) | undefined },
) => Promise<ItemRecord>;

/** What writing a rollout's record needs: the data directory, Redis, the metric. */
export interface RecordDeps {
  connection: Redis;
  prefix: string;
  store: DataStore;
  catalog: BenchmarkCatalog;
  makeRecord: MakeRecord;
}

const resultOf = (r: ItemRecord): ScoreJobResult => ({
  status: r.status,
  correct: r.correct,
  score: r.score,
});

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
  if (!existing) return null;
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
 * Applies the benchmark's metric to a finished rollout, writes its durable record (fsync'd,
 * created once), then its compact result and count in Redis, and notes the outcome for the
 * sweep's error threshold. The caller completes the rollout only after this returns.
 */
export async function writeRecord(
  deps: RecordDeps,
  rollout: RolloutJobData,
  item: Item,
  meta: SweepMeta,
  combine: ((verdicts: CandidateVerdict[]) => ScoreResult) | undefined,
  who: string,
): Promise<ScoreJobResult> {
  const { sweepId, rolloutId } = rollout;
  const record = await deps.makeRecord(rollout, item, deps.catalog.get(rollout.benchmark), { combine });
  if (!(await deps.store.createRecord(record))) {
    // Another process wrote it meanwhile (the same rollout run twice at once): keep theirs.
    const theirs = await recordedResult(deps, sweepId, rolloutId);
    if (theirs) return theirs;
    throw new Error(`record of ${rolloutId} exists but cannot be read`);
  }
  await deps.connection
    .multi()
    .hincrby(keys.scored(deps.prefix, sweepId), rolloutId, 1)
    .hset(keys.done(deps.prefix, sweepId), rolloutId, compactResult(record))
    .exec();
  itemDone(record.status);
  const paused = await noteOutcome(deps.connection, deps.prefix, sweepId, meta.pauseOnErrors, record);
  if (paused) console.error(`[${who}] sweep ${sweepId} paused: ${paused.reason}`);
  return resultOf(record);
}

/** Scoring in the rollout's last step: the metric, and which benchmarks' metrics are cheap. */
export interface InlineScoring {
  makeRecord: MakeRecord;
  cheap: (benchmark: string) => boolean;
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
  opts: Omit<RecordDeps, 'makeRecord'>,
  inline: InlineScoring | undefined,
): InlineScorerFactory {
  const deps = inline && { ...opts, makeRecord: inline.makeRecord };
  return (data: RolloutJobData, item: Item, meta: SweepMeta, policy: Policy) => {
    if (!deps || !inline?.cheap(data.benchmark)) return undefined;
    // No look for an existing record first: the metric is cheap, and a record written
    // before a crash makes the create fail, and that record is the one kept.
    return (state: RolloutState) =>
      writeRecord(deps, { ...data, state }, item, meta, policy.combine?.bind(policy), 'orchestrator');
  };
}
