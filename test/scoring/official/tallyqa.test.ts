import { describe, expect, it } from 'vitest';
import { tallyqaOfficial } from '../../../src/scoring/official/tallyqa.ts';
import { tallyqaCases } from './cases/tallyqa.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('TallyQA official scorer (VLMEvalKit vlmeval/dataset/utils/tallyqa.py)', () => {
  checkCases(tallyqaOfficial, tallyqaCases);

  it('records the count it read as the extracted answer', async () => {
    const c = { name: 'x', cite: 'x.py', answers: ['4'], reply: 'four apples', correct: true };
    expect((await tallyqaOfficial.score(caseItem(c, 'tallyqa'), c.reply)).extracted).toBe('4');
  });

  it('refuses an item whose answer is not an integer', () => {
    const c = { name: 'x', cite: 'x.py', answers: ['many'], reply: '4', correct: false };
    expect(() => tallyqaOfficial.score(caseItem(c, 'tallyqa'), c.reply)).toThrow(/not an integer/);
  });
});
