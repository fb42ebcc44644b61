/**
 * HumanEval-V's scorer checks each distinct program once per process (the oracle scores every
 * expert's candidate, and experts often write the same program); a run cut short by its time
 * limit is checked again.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const outcomes: Array<{ passed: boolean; timedOut: boolean }> = [];
const runs: string[] = [];
vi.mock('../../../src/scoring/official/humanevalv/pylint.ts', () => ({ pylintErrors: async () => [] }));
vi.mock('../../../src/scoring/official/humanevalv/run.ts', () => ({
  runInSandbox: async (program: string) => {
    runs.push(program);
    const o = outcomes.shift() ?? { passed: true, timedOut: false };
    return { ...o, exitCode: o.timedOut ? null : 0, detail: o.timedOut ? 'timed out' : 'ok' };
  },
}));

const { humanevalvOfficial } = await import('../../../src/scoring/official/humanevalv.ts');
const { caseItem } = await import('./helpers.ts');

function item(signature: string) {
  const base = caseItem({ name: 'x', cite: 'x.py', answers: ['x'], reply: '', correct: true }, 'humanevalv');
  return {
    ...base,
    extra: { function_signature: signature, test_script: 'assert solution(2) == 4\n' },
  };
}

describe('HumanEval-V: one check per distinct program', () => {
  beforeEach(() => {
    runs.length = 0;
    outcomes.length = 0;
  });

  it('runs the same program once and gives both candidates the same verdict', async () => {
    const it1 = item('def solution(n: int) -> int:\n    """Square."""\n');
    const reply = '```python\ndef solution(n: int) -> int:\n    return n * n\n```';
    const a = await humanevalvOfficial.score(it1, reply);
    const b = await humanevalvOfficial.score(it1, reply);
    expect(runs).toHaveLength(1);
    expect([a.correct, b.correct]).toEqual([true, true]);
    // A different program is run.
    await humanevalvOfficial.score(it1, '```python\ndef solution(n: int) -> int:\n    return n + n\n```');
    expect(runs).toHaveLength(2);
  });

  it('checks a timed-out program again', async () => {
    const it2 = item('def solution(n: int) -> int:\n    """Twice."""\n');
    const reply = '```python\ndef solution(n: int) -> int:\n    return 2 * n\n```';
    outcomes.push({ passed: false, timedOut: true }, { passed: true, timedOut: false });
    const first = await humanevalvOfficial.score(it2, reply);
    const second = await humanevalvOfficial.score(it2, reply);
    expect(runs).toHaveLength(2);
    expect([first.correct, second.correct]).toEqual([false, true]);
  });
});
