import { describe, expect, it } from 'vitest';
import {
  microvqaOfficial,
  microvqaPred,
  microvqaPredLabelled,
} from '../../../src/scoring/official/microvqa.ts';
import { microvqaCases } from './cases/microvqa.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('MicroVQA official scorer (jmhb0/microvqa eval/eval.py)', () => {
  checkCases(microvqaOfficial, microvqaCases);

  it('reads the 0-based option index, -1 for a bad response', () => {
    expect(microvqaPred('the answer is (4)')).toBe(3);
    expect(microvqaPred('no idea')).toBe(-1);
  });

  it('reads a reply that is only an option label (the project prompt labels options A, B, …)', async () => {
    const labels = ['A', 'B', 'C', 'D'];
    expect(microvqaPredLabelled('B', labels)).toBe(1);
    expect(microvqaPredLabelled(' (C). ', labels)).toBe(2);
    expect(microvqaPredLabelled('E', labels)).toBe(-1);
    // Inside a longer reply a letter is still no answer, as in eval.py.
    expect(microvqaPredLabelled('The answer is (B)', labels)).toBe(-1);
    expect(microvqaPredLabelled('the answer is (2)', labels)).toBe(1);
    const base = caseItem({ name: 'x', cite: 'x.py', answers: ['B'], reply: '', correct: false }, 'microvqa');
    const item = { ...base, options: labels.map((label) => ({ label, text: label.toLowerCase() })) };
    expect((await microvqaOfficial.score(item, 'B')).correct).toBe(true);
    expect((await microvqaOfficial.score(item, 'C')).correct).toBe(false);
  });

  it('refuses an item whose answer is not one of its options', () => {
    const item = caseItem({ name: 'x', cite: 'x.py', answers: ['Z'], reply: '', correct: false }, 'microvqa');
    expect(() => microvqaOfficial.score({ ...item, options: [{ label: 'A', text: 'a' }] }, 'x')).toThrow(
      /not an option/,
    );
  });
});
