import { describe, expect, it } from 'vitest';
import { humanevalvOfficial } from '../../../src/scoring/official/humanevalv.ts';
import { humanevalvCases, humanevalvPylintCases } from './cases/humanevalv.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('HumanEval-V official scorer (HumanEval-V-Benchmark evaluate.py, in a sandbox)', () => {
  checkCases(humanevalvOfficial, humanevalvCases);

  describe('the pylint check', () => {
    checkCases(humanevalvOfficial, humanevalvPylintCases, 3);
  });

  it('runs items imported without the release fields from extra.tests and check(entryPoint)', async () => {
    const base = caseItem(
      { name: 'x', cite: 'x.py', answers: ['x'], reply: '', correct: true },
      'humanevalv',
    );
    const item = {
      ...base,
      extra: { tests: 'def check(f):\n    assert f(3) == 6\n', entryPoint: 'double' },
    };
    expect(
      (await humanevalvOfficial.score(item, '```python\ndef double(x):\n    return 2 * x\n```')).correct,
    ).toBe(true);
    expect(
      (await humanevalvOfficial.score(item, '```python\ndef double(x):\n    return x\n```')).correct,
    ).toBe(false);
  });

  it('fails the sandbox cases in the sandbox, not in the pylint check', async () => {
    const sandboxed = humanevalvCases.filter((c) => !c.correct && c.cite.includes('our sandbox'));
    expect(sandboxed.length).toBeGreaterThanOrEqual(8);
    for (const c of sandboxed) {
      const r = await humanevalvOfficial.score(caseItem(c, 'humanevalv'), c.reply);
      expect(r.reason, c.name).toMatch(/^failed: /);
    }
  }, 240_000);

  it('refuses an item without tests', async () => {
    const item = caseItem(
      { name: 'x', cite: 'x.py', answers: ['x'], reply: '', correct: true },
      'humanevalv',
    );
    await expect(humanevalvOfficial.score(item, 'x')).rejects.toThrow(/no extra.function_signature/);
  });
});
