import { describe } from 'vitest';
import { msearthOfficial } from '../../../src/scoring/official/vlmeval-mcq.ts';
import { vlmevalMcqCases } from './cases/vlmeval-mcq.ts';
import { checkCases } from './helpers.ts';

describe('MSEarth official scorer (VLMEvalKit MSEarthMCQ = ImageMCQDataset.evaluate, exact matching)', () => {
  checkCases(msearthOfficial, vlmevalMcqCases);
});
