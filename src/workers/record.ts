import type { Redis } from 'ioredis';
import type { Benchmark, BenchmarkCatalog } from '../core/benchmarks.ts';
import { countRecord } from '../core/guards.ts';
import {
  type CandidateVerdict,
  type Item,
  type ItemRecord,
  RolloutStatus,
  type ScoreResult,
} from '../core/items.ts';
import { compactResult, type RolloutJobData, type RolloutState, type ScoreJobResult } from '../core/jobs.ts';
import { keys } from '../core/queues.ts';
import { redactJson } from '../core/redact.ts';
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

/** A rollout's result from its `done` entry (`status|correct|…`), when its record cannot be read. */
function resultOfCompact(compact: string): ScoreJobResult {
  const [status, correct] = compact.split('|');
  const ok = correct === '1';
  const parsed = RolloutStatus.safeParse(status);
  return { status: parsed.success ? parsed.data : 'error', correct: ok, score: ok ? 1 : 0 };
}

/**
 * The result of a rollout already counted in Redis (a retry after a crash, or the same
 * rollout run twice at once), read from its record; null when it is not counted yet.
 */
export async function recordedResult(
  deps: RecordDeps,
  sweepId: string,
  rolloutId: string,
): Promise<ScoreJobResult | null> {
  const [scored, compact] = await Promise.all([
    deps.connection.hget(keys.scored(deps.prefix, sweepId), rolloutId),
    deps.connection.hget(keys.done(deps.prefix, sweepId), rolloutId),
  ]);
  if (!scored || !compact) return null;
  return theirs(deps, sweepId, rolloutId, compact);
}

/** The counted record's result (its score read from the disk when it can be). */
async function theirs(deps: RecordDeps, sweepId: string, rolloutId: string, compact: string) {
  const record = await deps.store.readRecord(sweepId, rolloutId);
  return record && compactResult(record) === compact ? resultOf(record) : resultOfCompact(compact);
}

/**
 * Applies the benchmark's metric to a finished rollout, appends its durable record to this
 * process's journal (on the disk when this returns; storage errors waited out until the
 * deadline), then counts it in Redis with its compact result and notes the outcome for the
 * sweep's error threshold. When Redis has counted another record of the rollout first (the
 * same rollout run twice at once, or retried after a crash that followed the count), this
 * one is voided and theirs is the result: an item is counted once, and its record is the
 * one counted. The caller completes the rollout only after this returns.
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
  const record = await deps.makeRecord(rollout, item, sweepBenchmark(meta, rollout.benchmark, deps.catalog), {
    combine: policy.combine?.bind(policy),
    answerOf: policy.answerOf?.bind(policy),
    mode: meta.scoring ?? 'official',
    judge: meta.judge,
  });
  // Traces may carry what an endpoint echoed (error texts): no key reaches a record.
  const json = redactJson(record);
  // A full disk or an unwritable folder is waited out (until the deadline): the item is
  // not turned into a failure by an outage of the data directory.
  const storage = <T>(what: () => Promise<T>) =>
    withStorageRetry(what, {
      deadlineMs: deps.storageDeadlineMs ?? DEFAULT_STORAGE_DEADLINE_MS,
      path: () => deps.store.journalPath(sweepId),
      log: (line) => log(`[${who}] ${line}`),
    });
  const wid = await storage(() => deps.store.appendRecord(record, json));
  const counted = await countRecord(
    deps.connection,
    deps.prefix,
    sweepId,
    { rolloutId, compact: compactResult(record), status: record.status, error: record.error },
    meta.pauseOnErrors,
  );
  if (counted.taken !== null) {
    await storage(() => deps.store.voidRecords(sweepId, [wid]));
    return theirs(deps, sweepId, rolloutId, counted.taken);
  }
  itemDone(record.status);
  if (counted.paused) console.error(`[${who}] sweep ${sweepId} paused: ${counted.paused.reason}`);
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
    // No look for a counted record first: the metric is cheap, and a record counted before
    // a crash makes the count of this one refuse it, and the counted one is kept.
    return (state: RolloutState) => writeRecord(deps, { ...data, state }, item, meta, policy, 'orchestrator');
  };
}
