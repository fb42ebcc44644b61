import { describe, expect, it } from 'vitest';
import { chartqaFloat, chartqaOfficial } from '../../../src/scoring/official/chartqa.ts';
import { chartqaCases } from './cases/chartqa.ts';
import { checkCases } from './helpers.ts';

describe('ChartQA official scorer (VLMEvalKit vqa_eval.py relaxed_correctness)', () => {
  checkCases(chartqaOfficial, chartqaCases);

  it('reads numbers as Python float() does, a trailing % run dividing by 100', () => {
    expect(chartqaFloat(' 12.5 ')).toBe(12.5);
    expect(chartqaFloat('45%%')).toBeCloseTo(0.45, 12);
    expect(chartqaFloat('1_0.5')).toBe(10.5);
    expect(chartqaFloat('1__0')).toBeNull();
    expect(chartqaFloat('_10')).toBeNull();
    expect(chartqaFloat('.5')).toBe(0.5);
    expect(chartqaFloat('.')).toBeNull();
    expect(chartqaFloat('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(chartqaFloat('0x10')).toBeNull();
    expect(chartqaFloat('%')).toBeNull();
    expect(chartqaFloat('\ufeff5')).toBeNull();
  });
});
