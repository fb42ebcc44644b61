import { describe } from 'vitest';
import { ocrbenchOfficial } from '../../../src/scoring/official/ocrbench.ts';
import { ocrbenchCases } from './cases/ocrbench.ts';
import { checkCases } from './helpers.ts';

describe('OCRBench official scorer (MultimodalOCR OCRBench/example.py)', () => {
  checkCases(ocrbenchOfficial, ocrbenchCases);
});
