import { describe, expect, it } from 'vitest';
import type { Benchmark } from '../../src/core/benchmarks.ts';
import type { Item, ScoreResult, Step } from '../../src/core/items.ts';
import { buildRecord, type RolloutOutcome, scoreOutcome } from '../../src/scoring/record.ts';

const item = { id: 'i1', benchmark: 'chartqa', question: 'q', answers: ['7'] } as unknown as Item;
const benchmark = { id: 'chartqa' } as unknown as Benchmark;
const exact = async (_i: Item, _b: Benchmark, raw: string): Promise<ScoreResult> => ({
  correct: raw.includes('7'),
  score: raw.includes('7') ? 1 : 0,
  extracted: raw.match(/\d+/)?.[0] ?? null,
  reason: 'test metric',
});
const step = (over: Partial<Step>): Step => ({
  turn: 0,
  policyText: 't',
  policyLatencyMs: 100,
  policyPromptTokens: 10,
  policyCompletionTokens: 5,
  action: { type: 'answer', answer: '7' },
  calls: [],
  ...over,
});
const outcome = (over: Partial<RolloutOutcome>): RolloutOutcome => ({
  status: 'answered',
  rawOutput: 'The answer is 7.',
  steps: [],
  startedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('scoreOutcome', () => {
  it('applies the metric to an answered rollout', async () => {
    const v = await scoreOutcome(outcome({}), item, benchmark, exact);
    expect(v).toEqual({ status: 'answered', error: undefined, score: await exact(item, benchmark, '7') });
  });

  it('does not score errors or unanswered rollouts', async () => {
    const err = await scoreOutcome(outcome({ status: 'error', error: 'boom' }), item, benchmark, exact);
    expect(err.score).toMatchObject({ correct: false, reason: 'not scored: the item failed to run' });
    const none = await scoreOutcome(outcome({ status: 'no_answer', rawOutput: '7' }), item, benchmark, exact);
    expect(none.score.correct).toBe(false);
  });

  it('turns a metric that throws into an error with its cause', async () => {
    const broken = async (): Promise<ScoreResult> => {
      throw new Error('sandbox died');
    };
    const v = await scoreOutcome(outcome({}), item, benchmark, broken);
    expect(v).toMatchObject({ status: 'error', error: 'scoring failed: sandbox died' });
  });

  it("scores every pair of a fan-out and lets the policy's rule combine them", async () => {
    const o = outcome({
      candidates: [
        { expert: 'a', skill: 's', rawOutput: 'It is 3' },
        { expert: 'b', skill: 's', rawOutput: '', error: 'down' },
        { expert: 'c', skill: 's', rawOutput: 'It is 7' },
      ],
    });
    const seen: unknown[] = [];
    const v = await scoreOutcome(o, item, benchmark, exact, (verdicts) => {
      seen.push(...verdicts);
      return { correct: true, score: 1, extracted: 'x', reason: 'combined' };
    });
    expect(seen).toEqual([
      { expert: 'a', skill: 's', extracted: '3', correct: false },
      { expert: 'b', skill: 's', extracted: null, correct: false, error: 'down' },
      { expert: 'c', skill: 's', extracted: '7', correct: true },
    ]);
    expect(v.score.reason).toBe('combined');
    // A fan-out policy's answerOf is what gets scored for each pair.
    seen.length = 0;
    await scoreOutcome(
      o,
      item,
      benchmark,
      exact,
      (verdicts) => {
        seen.push(...verdicts);
        return { correct: true, score: 1, extracted: 'x', reason: 'combined' };
      },
      (out) => out.replace('3', '7'),
    );
    expect(seen.map((x) => (x as { correct: boolean }).correct)).toEqual([true, false, true]);
    await expect(scoreOutcome(o, item, benchmark, exact)).rejects.toThrow(/combine/);
  });
});

describe('buildRecord', () => {
  it('sums latency, calls and tokens over the steps and keeps the ids', async () => {
    const call = { service: 'x', model: 'm', latencyMs: 5, promptTokens: 7, completionTokens: 3, ok: true };
    const o = outcome({
      steps: [step({ expertLatencyMs: 40, calls: [call, call] }), step({ turn: 1 })],
      policyMeta: { arm: 'a' },
    });
    const ids = {
      sweepId: 's',
      rolloutId: 'r',
      policy: 'p',
      benchmark: 'chartqa',
      itemId: 'i1',
      seed: 0,
      sample: 0,
    };
    const r = buildRecord(
      ids,
      o,
      await scoreOutcome(o, item, benchmark, exact),
      new Date('2026-01-01T00:00:02Z'),
    );
    expect(r).toMatchObject({
      ...ids,
      status: 'answered',
      correct: true,
      extracted: '7',
      latencyMs: 2_000,
      policyLatencyMs: 200,
      expertLatencyMs: 40,
      expertCalls: 2,
      promptTokens: 10 + 10 + 14,
      completionTokens: 5 + 5 + 6,
      policyMeta: { arm: 'a' },
    });
    expect(r.error).toBeUndefined();
  });
});
