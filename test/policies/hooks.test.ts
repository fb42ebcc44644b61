import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/core/registry.ts';
import { parsePolicyKey } from '../../src/core/sweep.ts';
import { banditKeys } from '../../src/policies/bandit.ts';
import { createPolicy } from '../../src/policies/index.ts';

const registry = loadRegistry(['registry/simulated.yaml'], {});

/** The few Redis commands the bandit's outcome hook uses, recorded instead of run. */
function recordingRedis(decision: string | null) {
  const calls: unknown[][] = [];
  const redis = {
    hget: async (...args: unknown[]) => {
      calls.push(['hget', ...args]);
      return decision;
    },
    evalsha: async (...args: unknown[]) => {
      calls.push(['evalsha', ...args.slice(1)]);
      return 1;
    },
  } as unknown as Redis;
  return { redis, calls };
}

describe('policy hooks', () => {
  it("the bandit learns from a scored outcome: the decision's arm and context get the reward", async () => {
    const { redis, calls } = recordingRedis('3|Chart-R1@@Chart_Problem_Solver|chart');
    const bandit = createPolicy(parsePolicyKey('bandit'), registry, { shared: { redis, prefix: '{t}' } });
    await bandit.onOutcome?.({ sweepId: 's1', rolloutId: 'r1', status: 'answered', correct: true });
    const k = banditKeys('{t}', 's1', 'bandit');
    expect(calls[0]).toEqual(['hget', k.decisions, 'r1']);
    // KEYS: stats, rewarded; ARGV: rollout, context, arm, reward, expert and skill features.
    expect(calls[1]).toEqual([
      'evalsha',
      2,
      k.stats,
      k.rewarded,
      'r1',
      'chart',
      'Chart-R1@@Chart_Problem_Solver',
      '1',
      'e:Chart-R1',
      's:Chart_Problem_Solver',
    ]);
  });

  it('the bandit learns nothing from an item that failed to run, and 0 from a wrong one', async () => {
    const { redis, calls } = recordingRedis('1|Chart-R1@@Chart_Problem_Solver|chart');
    const bandit = createPolicy(parsePolicyKey('bandit'), registry, { shared: { redis, prefix: '{t}' } });
    await bandit.onOutcome?.({ sweepId: 's1', rolloutId: 'r1', status: 'error', correct: false });
    expect(calls).toEqual([]);
    await bandit.onOutcome?.({ sweepId: 's1', rolloutId: 'r2', status: 'no_answer', correct: false });
    expect(calls[1]?.[7]).toBe('0');
  });

  it('only the bandit is given the shared state, and it says so when it has none', async () => {
    const bandit = createPolicy(parsePolicyKey('bandit'), registry);
    await expect(
      bandit.onOutcome?.({ sweepId: 's', rolloutId: 'r', status: 'answered', correct: true }),
    ).rejects.toThrow(/needs the shared Redis state/);
    for (const key of ['random', 'rules', 'oracle', 'direct:GLM-4.6V-Flash']) {
      expect(createPolicy(parsePolicyKey(key), registry).onOutcome).toBeUndefined();
    }
  });

  it('the oracle fans out over every offered pair and combines verdicts: correct if any pair is', async () => {
    const oracle = createPolicy(parsePolicyKey('oracle'), registry);
    const reply = await oracle.decide({ steps: [], item: { question: 'q' } } as never);
    const pairs = registry.offeredExperts().length * registry.offeredSkills().length;
    expect('fanOut' in reply && reply.fanOut).toHaveLength(pairs);
    const v = (correct: boolean, extracted: string | null, error?: string) => ({
      expert: 'e',
      skill: 's',
      correct,
      extracted,
      ...(error ? { error } : {}),
    });
    expect(oracle.combine?.([v(false, 'A'), v(true, 'B'), v(true, 'C')])).toEqual({
      correct: true,
      score: 1,
      extracted: 'B',
      reason: '2 of 3 pairs correct',
    });
    expect(oracle.combine?.([v(false, null, 'down'), v(false, 'D')])).toMatchObject({
      correct: false,
      score: 0,
      extracted: 'D',
    });
  });
});

describe('baselines answer with the expert', () => {
  it("adds the expert's stated answer as an <answer> tag; code and unstated outputs stay as they are", async () => {
    const { withStatedAnswer } = await import('../../src/policies/baselines.ts');
    expect(withStatedAnswer('I looked.\nThe answer is **47**.')).toBe(
      'I looked.\nThe answer is **47**.\n<answer>47</answer>',
    );
    expect(withStatedAnswer('```python\ndef f(): pass\n```')).toBe('```python\ndef f(): pass\n```');
    const oracle = createPolicy(parsePolicyKey('oracle'), registry);
    expect(oracle.answerOf?.('x. The answer is B.')).toBe('x. The answer is B.\n<answer>B</answer>');
  });
});
