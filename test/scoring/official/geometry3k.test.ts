import { describe, expect, it } from 'vitest';
import { extractBoxedContent, gradeAnswer } from '../../../src/scoring/official/mathruler/grade.ts';
import { mathdNormalize } from '../../../src/scoring/official/mathruler/mathd.ts';
import { closedFormEqual } from '../../../src/scoring/official/mathruler/numeric.ts';
import { mathrulerOfficial } from '../../../src/scoring/official/mathruler.ts';
import { geometry3kCases } from './cases/geometry3k.ts';
import { checkCases } from './helpers.ts';

describe('Geometry3K official scorer (MathRuler mathruler/grader.py grade_answer)', () => {
  checkCases(mathrulerOfficial, geometry3kCases);

  it('normalises as MATH does, returning the stripped answer where upstream raises', () => {
    expect(mathdNormalize(' \\text{12} ')).toBe('12');
    expect(mathdNormalize('\\frac12')).toBe('\\frac{1}{2}');
    expect(mathdNormalize('\\sqrt')).toBe('\\sqrt');
  });

  it('compares closed forms: exact values to rounding noise, decimals exactly', () => {
    expect(closedFormEqual('sqrt(2)/2', '1/sqrt(2)')).toBe(true);
    expect(closedFormEqual('0.1+0.2', '0.3')).toBe(false);
    expect(closedFormEqual('x+1', '1+x')).toBe(false);
  });

  it('extracts the last boxed content and grades it', () => {
    expect(extractBoxedContent('a \\boxed{ {1} } b')).toBe('{1}');
    expect(gradeAnswer('2\\sqrt{2}', '\\sqrt{8}')).toBe(true);
  });
});
