import { z } from 'zod';
import { MaestroError } from '../../core/errors.ts';
import { releaseFormatReward } from './format.ts';
import { scoreMath } from './math.ts';
import {
  RELEASE_BENCHMARKS,
  RELEASE_FUNCTION_BY_DATA_SOURCE,
  type ReleaseDataSource,
  type ReleaseFunctionName,
} from './table.ts';
import { type FunctionVerdict, scoreTagged } from './tagged.ts';

/**
 * `release-reward`: the Maestro release's reward functions, re-implemented. Pure: no I/O.
 * `score` is the function's reward (what the release's validation reports, as accuracy
 * `score > 0`); `formatReward` is the manager's format term (0 or -1) that training adds to it.
 */

export type ReleaseRewardResult =
  | {
      kind: 'scored';
      score: number;
      correct: boolean;
      extracted: string | null;
      fn: ReleaseFunctionName;
      dataSource: ReleaseDataSource;
      formatReward: number;
      trainingReward: number;
    }
  | { kind: 'unsupported'; reason: string };

/** The trajectory or ground truth given to releaseReward is not text. */
export class ReleaseRewardInputError extends MaestroError {}

const GroundTruth = z.union([z.string(), z.array(z.string())]);

export interface ReleaseRewardExtra {
  /** Use this release data_source instead of the benchmark's (e.g. "zwz"). */
  dataSource?: ReleaseDataSource;
}

function runFunction(
  fn: ReleaseFunctionName,
  trajectory: string,
  groundTruth: string[],
): FunctionVerdict | { undecided: string } {
  if (fn !== 'math_compute_score') return scoreTagged(fn, trajectory, groundTruth);
  const verdict = scoreMath(trajectory, groundTruth);
  return verdict.kind === 'scored' ? verdict : { undecided: verdict.why };
}

/**
 * Scores one whole trajectory (the decoded response: every policy turn and every
 * `<information>` observation, as the release's reward manager sees it) the way the release
 * does. The ground truth is the list the release stores in `reward_model.ground_truth`; a
 * single string is taken as a one-element list.
 */
export function releaseReward(
  benchmarkId: string,
  trajectory: string,
  groundTruth: string[] | string,
  extra?: ReleaseRewardExtra,
): ReleaseRewardResult {
  const truthInput = GroundTruth.safeParse(groundTruth);
  if (typeof trajectory !== 'string' || !truthInput.success) {
    throw new ReleaseRewardInputError(
      `${benchmarkId}: release-reward needs a string trajectory and string ground truths`,
      {
        hint: 'pass the decoded response text and reward_model.ground_truth (a list of strings)',
      },
    );
  }
  const mapping = RELEASE_BENCHMARKS[benchmarkId];
  const dataSource = extra?.dataSource ?? (mapping?.supported ? mapping.dataSource : undefined);
  if (!dataSource) {
    const reason =
      mapping && !mapping.supported ? mapping.reason : 'not a benchmark of benchmarks/catalog.yaml';
    return { kind: 'unsupported', reason: `${benchmarkId}: ${reason}` };
  }
  const fn = RELEASE_FUNCTION_BY_DATA_SOURCE[dataSource];
  const truth = typeof truthInput.data === 'string' ? [truthInput.data] : truthInput.data;
  const verdict = runFunction(fn, trajectory, truth);
  if ('undecided' in verdict) {
    return {
      kind: 'unsupported',
      reason: `${benchmarkId}: the release decides this answer with SymPy beyond what release-reward evaluates (${verdict.undecided})`,
    };
  }
  const formatReward = releaseFormatReward(trajectory);
  return {
    kind: 'scored',
    score: verdict.score,
    correct: verdict.score > 0,
    extracted: verdict.extracted,
    fn,
    dataSource,
    formatReward,
    trainingReward: verdict.score + formatReward,
  };
}

export { releaseFormatReward, releaseModelName, releaseSkillName } from './format.ts';
export { releaseLatexToFloat, scoreMath } from './math.ts';
export { type SympifyResult, sympifyToFloat } from './math-sympify.ts';
export {
  type BenchmarkMapping,
  RELEASE_BENCHMARKS,
  RELEASE_FUNCTION_BY_DATA_SOURCE,
  type ReleaseDataSource,
  type ReleaseFunctionName,
} from './table.ts';
export { type FunctionVerdict, scoreTagged, type TaggedFunctionName } from './tagged.ts';
