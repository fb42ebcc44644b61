import { describe, expect, it } from 'vitest';
import { slakeNormalize, slakeOfficial } from '../../../src/scoring/official/slake.ts';
import { slakeCases } from './cases/slake.ts';
import { checkCases } from './helpers.ts';

describe('SLAKE official scorer (lmms-eval lmms_eval/tasks/slake/utils.py)', () => {
  checkCases(slakeOfficial, slakeCases);

  it('normalises as the upstream normalize_answer does', () => {
    expect(slakeNormalize(' Left-Lung (upper). ')).toBe('left lung');
    expect(slakeNormalize('X-Ray')).toBe('xray');
    expect(slakeNormalize('TRUE')).toBe('yes');
    expect(slakeNormalize('a/b_c')).toBe('a b c');
  });
});
