import { describe, expect, it } from 'vitest';
import { erqaOfficial } from '../../../src/scoring/official/erqa.ts';
import { extractMcqAnswer } from '../../../src/scoring/official/mcq-extract.ts';
import { erqaCases } from './cases/erqa.ts';
import { checkCases } from './helpers.ts';

describe('ERQA official scorer (lmms-eval erqa/utils.py with _task_utils/mcq_extract.py)', () => {
  checkCases(erqaOfficial, erqaCases);

  it('extracts with the default choices A–H when none are given', () => {
    expect(extractMcqAnswer('The correct answer is (F).')).toBe('F');
    expect(extractMcqAnswer('nothing here')).toBe('');
  });
});
