import { describe, expect, it } from 'vitest';
import { charxivOfficial } from '../../../src/scoring/official/charxiv.ts';
import { charxivCases } from './cases/charxiv.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('CharXiv without a judge: the exact-match proxy (the benchmark grades with a judge: princeton-nlp/CharXiv src/evaluate.py)', () => {
  checkCases(charxivOfficial, charxivCases);

  it('is marked as a proxy, and every verdict says so', async () => {
    expect(charxivOfficial.proxy).toBe(true);
    const c = charxivCases[0];
    if (!c) throw new Error('no case');
    expect((await charxivOfficial.score(caseItem(c, 'charxiv'), c.reply)).reason).toMatch(
      /^proxy for the CharXiv judge/,
    );
  });
});
