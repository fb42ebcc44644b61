import { describe, expect, it } from 'vitest';
import {
  humanevalvFenceContent,
  humanevalvPostProcess,
} from '../../../src/scoring/official/humanevalv/post-process.ts';
import { postProcessCases, SIG, TEST } from './cases/humanevalv-post-process.ts';

describe('HumanEval-V post-processing (HumanEval-V-Benchmark evaluate.py post_process)', () => {
  it('has at least 20 cases, each citing its upstream rule', () => {
    expect(postProcessCases.length).toBeGreaterThanOrEqual(20);
    for (const c of postProcessCases) expect(c.cite, c.name).toMatch(/\.py\b/);
  });

  for (const c of postProcessCases) {
    it(`${c.name} [${c.cite}]`, async () => {
      const r = await humanevalvPostProcess(c.prediction, SIG, TEST);
      expect(r.completion).toBe(c.completion);
      expect(r.program).toBe(`${SIG}\n    pass\n\n${c.completion}\n\n${TEST}`);
    });
  }

  it('chooses fences by text alone', () => {
    expect(humanevalvFenceContent('nothing')).toBe('    pass');
    expect(humanevalvFenceContent('```python\na\n```\n```python\nb')).toBe('\na\n');
  });
});
