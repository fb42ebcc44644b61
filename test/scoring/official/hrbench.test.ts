import { describe, expect, it } from 'vitest';
import { hrbenchAverage, hrbenchOfficial } from '../../../src/scoring/official/vlmeval-mcq.ts';
import { vlmevalMcqCases } from './cases/vlmeval-mcq.ts';
import { caseItem, checkCases } from './helpers.ts';

describe('HR-Bench official scorer (VLMEvalKit HRBenchDataset.evaluate, exact matching)', () => {
  checkCases(hrbenchOfficial, vlmevalMcqCases);

  it('averages per cycle_category, overall and per category (hrbench.py report_acc_hrbench)', () => {
    const r = hrbenchAverage([
      { cycle: 'c0', category: 'single', correct: true },
      { cycle: 'c0', category: 'cross', correct: false },
      { cycle: 'c1', category: 'single', correct: true },
      { cycle: 'c1', category: 'single', correct: true },
      { cycle: 'c1', category: 'cross', correct: true },
      { cycle: 'c1', category: 'cross', correct: false },
    ]);
    expect(r.perCycle).toEqual({
      c0: { all: 0.5, single: 1, cross: 0 },
      c1: { all: 0.75, single: 1, cross: 0.5 },
    });
    expect(r.average).toEqual({ all: 0.625, single: 1, cross: 0.25 });
  });

  it('refuses an item without options', () => {
    const item = caseItem({ name: 'x', cite: 'x.py', answers: ['A'], reply: 'A', correct: false }, 'hrbench');
    expect(() => hrbenchOfficial.score(item, 'A')).toThrow(/no options/);
  });
});
