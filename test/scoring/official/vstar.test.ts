import { describe, expect, it } from 'vitest';
import { vstarLetter, vstarOfficial } from '../../../src/scoring/official/vstar.ts';
import { vstarCases } from './cases/vstar.ts';
import { checkCases } from './helpers.ts';

describe('V* Bench official scorer (lmms-eval lmms_eval/tasks/vstar_bench/utils.py)', () => {
  checkCases(vstarOfficial, vstarCases);

  it('falls back to the first character when it is A–D and no pattern matched', () => {
    expect(vstarLetter('ABBA')).toBe('A');
    expect(vstarLetter('xyz')).toBeNull();
  });
});
