import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Benchmark, BenchmarkCatalog } from '../core/benchmarks.ts';
import { describeError } from '../core/errors.ts';
import { noteOutcome } from '../core/guards.ts';
import type { Item, ItemRecord, ScoreResult } from '../core/items.ts';
import { compactResult, RolloutJobData, ScoreJobData, type ScoreJobResult } from '../core/jobs.ts';
import { keys, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import type { DataStore } from '../data/store.ts';
import { itemDone, watchWorker } from '../metrics/index.ts';
import { recordBanditReward } from '../policies/index.ts';
import { bullOptions, SweepCache, type WorkerSettings } from './runtime.ts';

export interface ScorerOptions extends WorkerSettings {
  store: DataStore;
  catalog: BenchmarkCatalog;
  /** The scoring function (src/scoring's scoreItem); injected so workers do not depend on scoring. */
  scoreItem: (item: Item, benchmark: Benchmark, rawOutput: string) => Promise<ScoreResult>;
  /** Scoring jobs at once (code execution runs in child processes). Default 4. */
  concurrency?: number;
}

/**
 * Scorer: turns a finished rollout into its durable record. It reads the rollout's trace
 * from the parent job, applies the benchmark's metric, writes the record (fsync'd) and the
 * compact result, and only then completes, which lets the rollout complete. A record that
 * already exists (a retry after a crash) is reused, so an item is never scored twice.
 */
export function startScorer(opts: ScorerOptions) {
  const rollouts = new Queue(ROLLOUT_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  const sweeps = new SweepCache(opts.connection, opts.prefix);

  /** Feeds learning policies (the bandit) with the item's reward, once. */
  async function reward(
    sweepId: string,
    policyKey: string,
    rolloutId: string,
    status: string,
    correct: boolean,
  ) {
    const spec = (await sweeps.get(sweepId)).policies.find((p) => p.key === policyKey);
    if (spec?.kind !== 'bandit' || status === 'error') return;
    await recordBanditReward(opts.connection, opts.prefix, sweepId, policyKey, rolloutId, correct ? 1 : 0);
  }

  async function process(job: Job): Promise<ScoreJobResult> {
    const parsed = ScoreJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid scoring payload: ${parsed.error.issues[0]?.message}`);
    const { sweepId, rolloutId } = parsed.data;
    /** A record is already there: no second one. Keeps Redis in line with it. */
    const reuse = async (existing: ItemRecord): Promise<ScoreJobResult> => {
      await reward(sweepId, existing.policy, rolloutId, existing.status, existing.correct);
      // No second record is written. `scored` is set to 1 only if absent: a Redis that lost its
      // last second of writes (AOF everysec) may have lost the increment of the first write.
      await opts.connection
        .multi()
        .hsetnx(keys.scored(opts.prefix, sweepId), rolloutId, 1)
        .hset(keys.done(opts.prefix, sweepId), rolloutId, compactResult(existing))
        .exec();
      return { status: existing.status, correct: existing.correct, score: existing.score };
    };
    const existing = await opts.store.readRecord(sweepId, rolloutId);
    if (existing) return reuse(existing);
    const parent = await Job.fromId(rollouts, rolloutId);
    if (!parent) throw new Error(`rollout ${rolloutId} not found`);
    const rollout = RolloutJobData.parse(parent.data);
    const state = rollout.state;
    if (state.phase !== 'scoring') {
      // Only a rollout that has finished its policy phase waits for scoring. Anything else
      // is a stale job (e.g. Redis restored to an earlier moment): score nothing from it.
      throw new Error(`rollout ${rolloutId} is not waiting for scoring (phase ${state.phase})`);
    }
    const item = await opts.store.item(rollout.benchmark, rollout.itemId);
    const benchmark = opts.catalog.get(rollout.benchmark);
    let status = state.status ?? 'error';
    let error = state.error;
    const rawOutput = state.rawOutput ?? '';
    let score: ScoreResult;
    let candidates: ItemRecord['candidates'];
    if (status === 'answered' && state.candidates?.length) {
      // Fan-out (oracle): every pair is scored; the item is correct if any pair is.
      candidates = [];
      for (const c of state.candidates) {
        if (c.error) {
          candidates.push({
            expert: c.expert,
            skill: c.skill,
            extracted: null,
            correct: false,
            error: c.error,
          });
          continue;
        }
        const verdict = await opts.scoreItem(item, benchmark, c.rawOutput);
        candidates.push({
          expert: c.expert,
          skill: c.skill,
          extracted: verdict.extracted,
          correct: verdict.correct,
        });
      }
      const best = candidates.find((c) => c.correct);
      const right = candidates.filter((c) => c.correct).length;
      score = {
        correct: best !== undefined,
        score: best ? 1 : 0,
        extracted: best?.extracted ?? candidates.find((c) => !c.error)?.extracted ?? null,
        reason: `${right} of ${candidates.length} pairs correct`,
      };
    } else if (status === 'error') {
      score = { correct: false, score: 0, extracted: null, reason: 'not scored: the item failed to run' };
    } else if (status === 'no_answer') {
      score = { correct: false, score: 0, extracted: null, reason: 'no <answer> within the turn limit' };
    } else {
      try {
        score = await opts.scoreItem(item, benchmark, rawOutput);
      } catch (err) {
        status = 'error';
        error = `scoring failed: ${describeError(err)}`;
        score = { correct: false, score: 0, extracted: null, reason: error };
      }
    }
    const steps = state.steps;
    const sum = (f: (s: (typeof steps)[number]) => number) => steps.reduce((a, s) => a + f(s), 0);
    const finishedAt = new Date();
    const startedAt = state.startedAt ?? finishedAt.toISOString();
    const record: ItemRecord = {
      v: 1,
      sweepId,
      rolloutId,
      policy: rollout.policy,
      benchmark: rollout.benchmark,
      itemId: rollout.itemId,
      seed: rollout.seed,
      sample: rollout.sample,
      status,
      rawOutput,
      extracted: score.extracted,
      correct: score.correct,
      score: score.score,
      scoreReason: score.reason,
      ...(error ? { error } : {}),
      steps,
      ...(candidates ? { candidates } : {}),
      ...(state.policyMeta ? { policyMeta: state.policyMeta } : {}),
      latencyMs: Math.max(0, finishedAt.getTime() - Date.parse(startedAt)),
      policyLatencyMs: sum((s) => s.policyLatencyMs),
      expertLatencyMs: sum((s) => s.expertLatencyMs ?? 0),
      expertCalls: sum((s) => s.calls.length),
      promptTokens: sum((s) => s.policyPromptTokens + s.calls.reduce((a, c) => a + c.promptTokens, 0)),
      completionTokens: sum(
        (s) => s.policyCompletionTokens + s.calls.reduce((a, c) => a + c.completionTokens, 0),
      ),
      startedAt,
      finishedAt: finishedAt.toISOString(),
    };
    if (!(await opts.store.createRecord(record))) {
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
    itemDone(status);
    await reward(sweepId, record.policy, rolloutId, status, score.correct);
    const meta = await sweeps.get(sweepId);
    const paused = await noteOutcome(opts.connection, opts.prefix, sweepId, meta.pauseOnErrors, {
      status,
      error,
    });
    if (paused) console.error(`[scorer] sweep ${sweepId} paused: ${paused.reason}`);
    return { status, correct: score.correct, score: score.score };
  }

  const worker = new Worker(SCORE_QUEUE, process, {
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
