import { describe, expect, it } from 'vitest';
import { mathvistaOfficial } from '../../../src/scoring/official/mathvista.ts';
import { pyFloatRepr, pyRound } from '../../../src/scoring/official/py.ts';
import { mathvistaCases } from './cases/mathvista.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('MathVista official scorer (lupantech/MathVista evaluation/calculate_score.py)', () => {
  checkCases(mathvistaOfficial, mathvistaCases);

  it('prints floats as Python repr does and rounds half to even on the exact value', () => {
    expect([1e16, 1.5e16, 1234567890123456, 0.0001, 0.00001, 3, -0.5].map(pyFloatRepr)).toEqual([
      '1e+16',
      '1.5e+16',
      '1234567890123456.0',
      '0.0001',
      '1e-05',
      '3.0',
      '-0.5',
    ]);
    expect([
      pyRound(2.5, 0),
      pyRound(3.5, 0),
      pyRound(-2.5, 0),
      pyRound(1.005, 2),
      pyRound(0.375, 2),
    ]).toEqual([2, 4, -2, 1, 0.38]);
  });

  it('names the extraction that was used, and that no judge model ran', async () => {
    const c = mathvistaCases.find((x) => x.name.startsWith('boxed'));
    if (!c) throw new Error('case missing');
    expect((await mathvistaOfficial.score(caseItem(c, 'mathvista'), c.reply)).reason).toMatch(
      /no judge model/,
    );
  });

  it('refuses a free-form text item, for which the upstream code has no rule', () => {
    const item = caseItem(
      { name: 'x', cite: 'x.py', answers: ['cat'], reply: 'cat', correct: false },
      'mathvista',
    );
    expect(() =>
      mathvistaOfficial.score({ ...item, extra: { question_type: 'free_form', answer_type: 'text' } }, 'cat'),
    ).toThrow(/no rule upstream/);
  });
});
