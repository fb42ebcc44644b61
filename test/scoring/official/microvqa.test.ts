import { describe, expect, it } from 'vitest';
import { microvqaOfficial, microvqaPred } from '../../../src/scoring/official/microvqa.ts';
import { microvqaCases } from './cases/microvqa.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('MicroVQA official scorer (jmhb0/microvqa eval/eval.py)', () => {
  checkCases(microvqaOfficial, microvqaCases);

  it('reads the 0-based option index, -1 for a bad response', () => {
    expect(microvqaPred('the answer is (4)')).toBe(3);
    expect(microvqaPred('no idea')).toBe(-1);
  });

  it('refuses an item whose answer is not one of its options', () => {
    const item = caseItem({ name: 'x', cite: 'x.py', answers: ['Z'], reply: '', correct: false }, 'microvqa');
    expect(() => microvqaOfficial.score({ ...item, options: [{ label: 'A', text: 'a' }] }, 'x')).toThrow(
      /not an option/,
    );
  });
});
