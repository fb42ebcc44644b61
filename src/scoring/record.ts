import type { Benchmark } from '../core/benchmarks.ts';
import { describeError } from '../core/errors.ts';
import type { CandidateVerdict, Item, ItemRecord, RolloutStatus, ScoreResult, Step } from '../core/items.ts';
import type { Candidate, RolloutJobData } from '../core/jobs.ts';
import { releaseReward } from './release-reward/index.ts';
import { releaseGroundTruth, releaseTrajectory } from './release-trajectory.ts';

/** A finished rollout, as the engine leaves it: what the record is built from. */
export interface RolloutOutcome {
  status: RolloutStatus;
  rawOutput: string;
  error?: string | undefined;
  steps: Step[];
  /** Fan-out rollouts: each pair's raw output. */
  candidates?: Candidate[] | undefined;
  policyMeta?: Record<string, string | number> | undefined;
  startedAt: string;
}

export interface RolloutIds {
  sweepId: string;
  rolloutId: string;
  policy: string;
  benchmark: string;
  itemId: string;
  seed: number;
  sample: number;
}

export type ScoreFn = (item: Item, benchmark: Benchmark, rawOutput: string) => Promise<ScoreResult>;

/** The verdict of a finished rollout. */
export interface ScoredOutcome {
  status: RolloutStatus;
  error?: string | undefined;
  score: ScoreResult;
  candidates?: CandidateVerdict[];
}

/**
 * Applies the benchmark's metric to a finished rollout: its answer, or every pair of a
 * fan-out (then `combine`, the fan-out policy's rule, gives the item's verdict). Failed and
 * unanswered rollouts are not scored. A metric that throws turns the item into an error.
 */
export async function scoreOutcome(
  o: RolloutOutcome,
  item: Item,
  benchmark: Benchmark,
  scoreItem: ScoreFn,
  combine?: (verdicts: CandidateVerdict[]) => ScoreResult,
  answerOf: (output: string) => string = (output) => output,
): Promise<ScoredOutcome> {
  const unscored = (reason: string): ScoreResult => ({ correct: false, score: 0, extracted: null, reason });
  if (o.status === 'error')
    return { status: o.status, error: o.error, score: unscored('not scored: the item failed to run') };
  if (o.status === 'no_answer') {
    return { status: o.status, error: o.error, score: unscored('no <answer> within the turn limit') };
  }
  if (o.candidates?.length) {
    if (!combine) throw new Error('a fan-out rollout needs its policy to combine the verdicts');
    const candidates: CandidateVerdict[] = [];
    for (const c of o.candidates) {
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
      let v: ScoreResult;
      try {
        v = await scoreItem(item, benchmark, answerOf(c.rawOutput));
      } catch (err) {
        const error = `scoring ${c.expert} @ ${c.skill} failed: ${describeError(err)}`;
        return { status: 'error', error, score: unscored(error), candidates };
      }
      candidates.push({
        expert: c.expert,
        skill: c.skill,
        extracted: v.extracted,
        correct: v.correct,
        ...(v.judge ? { judge: v.judge } : {}),
      });
    }
    return { status: o.status, error: o.error, score: combine(candidates), candidates };
  }
  try {
    return { status: o.status, error: o.error, score: await scoreItem(item, benchmark, o.rawOutput) };
  } catch (err) {
    const error = `scoring failed: ${describeError(err)}`;
    return { status: 'error', error, score: unscored(error) };
  }
}

/** The durable per-item record: one builder for the cluster's scorer and the bench. */
export function buildRecord(
  ids: RolloutIds,
  o: RolloutOutcome,
  v: ScoredOutcome,
  finishedAt: Date,
): ItemRecord {
  const steps = o.steps;
  const sum = (f: (s: Step) => number) => steps.reduce((a, s) => a + f(s), 0);
  return {
    v: 1,
    ...ids,
    status: v.status,
    rawOutput: o.rawOutput,
    extracted: v.score.extracted,
    correct: v.score.correct,
    score: v.score.score,
    scoreReason: v.score.reason,
    ...(v.score.judge ? { judge: v.score.judge } : {}),
    ...(v.error ? { error: v.error } : {}),
    steps,
    ...(v.candidates ? { candidates: v.candidates } : {}),
    ...(o.policyMeta ? { policyMeta: o.policyMeta } : {}),
    latencyMs: Math.max(0, finishedAt.getTime() - Date.parse(o.startedAt)),
    policyLatencyMs: sum((s) => s.policyLatencyMs),
    expertLatencyMs: sum((s) => s.expertLatencyMs ?? 0),
    expertCalls: sum((s) => s.calls.length),
    promptTokens: sum((s) => s.policyPromptTokens + s.calls.reduce((a, c) => a + c.promptTokens, 0)),
    completionTokens: sum(
      (s) => s.policyCompletionTokens + s.calls.reduce((a, c) => a + c.completionTokens, 0),
    ),
    startedAt: o.startedAt,
    finishedAt: finishedAt.toISOString(),
  };
}

/**
 * Scores a rollout the engine finished (its state in the `scoring` phase) and builds its
 * record: what the cluster's scorer and the bench's in-process runner both call.
 */
export async function recordFromRollout(
  rollout: RolloutJobData,
  item: Item,
  benchmark: Benchmark,
  opts: {
    scoreItem: ScoreFn;
    combine?: ((verdicts: CandidateVerdict[]) => ScoreResult) | undefined;
    /** A fan-out policy's answer from a pair's output. */
    answerOf?: ((output: string) => string) | undefined;
    finishedAt?: Date;
    /** The mode `scoreItem` scores in, kept on the record. */
    mode?: 'official' | 'lenient';
  },
): Promise<ItemRecord> {
  const { state } = rollout;
  const finishedAt = opts.finishedAt ?? new Date();
  const outcome: RolloutOutcome = {
    status: state.status ?? 'error',
    rawOutput: state.rawOutput ?? '',
    error: state.error,
    steps: state.steps,
    candidates: state.candidates,
    policyMeta: state.policyMeta,
    startedAt: state.startedAt ?? finishedAt.toISOString(),
  };
  const ids: RolloutIds = {
    sweepId: rollout.sweepId,
    rolloutId: rollout.rolloutId,
    policy: rollout.policy,
    benchmark: rollout.benchmark,
    itemId: rollout.itemId,
    seed: rollout.seed,
    sample: rollout.sample,
  };
  const scored = await scoreOutcome(outcome, item, benchmark, opts.scoreItem, opts.combine, opts.answerOf);
  return {
    ...buildRecord(ids, outcome, scored, finishedAt),
    ...(opts.mode ? { scoreMode: opts.mode } : {}),
    releaseReward: releaseRewardOf(item, outcome),
  };
}

/** The release's reward for the rollout (its whole trajectory), or why there is none. */
export function releaseRewardOf(item: Item, o: RolloutOutcome): NonNullable<ItemRecord['releaseReward']> {
  if (o.status === 'error') return { kind: 'unsupported', reason: 'the item failed to run' };
  if (o.candidates?.length) return { kind: 'unsupported', reason: 'a fan-out has no single trajectory' };
  try {
    const r = releaseReward(item.benchmark, releaseTrajectory(o.steps), releaseGroundTruth(item));
    return r.kind === 'scored' ? { kind: 'scored', score: r.score, correct: r.correct, fn: r.fn } : r;
  } catch (err) {
    return { kind: 'unsupported', reason: describeError(err) };
  }
}
