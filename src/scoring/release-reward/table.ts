/**
 * Which release reward function scores each of our benchmarks. The release's reward manager
 * (`verl_tool/workers/reward_manager/torl.py`, upstream commit 5b8257c) picks the function from
 * the item's `data_source` through a fixed map; any other data_source falls through to a
 * math-verify based default this project cannot reproduce (see docs/release-reward.md).
 */

/** The release's data_source → function map, as in the reward manager. */
export const RELEASE_FUNCTION_BY_DATA_SOURCE = {
  geometry3k: 'math_compute_score',
  tallyqa: 'math_compute_score',
  msearthmcq: 'compute_score_msearthmcq',
  microvqa: 'compute_score_msearthmcq',
  chartqa: 'compute_score_chartqa',
  slake: 'compute_score_slake',
  vstar: 'compute_score_vstar',
  zwz: 'compute_score_zwz',
} as const;

export type ReleaseDataSource = keyof typeof RELEASE_FUNCTION_BY_DATA_SOURCE;
export type ReleaseFunctionName = (typeof RELEASE_FUNCTION_BY_DATA_SOURCE)[ReleaseDataSource];

export type BenchmarkMapping =
  | { supported: true; dataSource: ReleaseDataSource; groundTruth: string }
  | { supported: false; reason: string };

const DEFAULT_PATH =
  'the release maps no data_source to it, so its reward manager would fall back to the ToRL ' +
  'math-verify scorer (torl_math.py), which needs the math_verify package and is not reproduced here';

/** Our benchmark ids (benchmarks/catalog.yaml) → the release's data_source, or why there is none. */
export const RELEASE_BENCHMARKS: Record<string, BenchmarkMapping> = {
  geometry3k: { supported: true, dataSource: 'geometry3k', groundTruth: '[answer]' },
  tallyqa: { supported: true, dataSource: 'tallyqa', groundTruth: '[count as a decimal string]' },
  chartqa: { supported: true, dataSource: 'chartqa', groundTruth: '[label]' },
  vstar: { supported: true, dataSource: 'vstar', groundTruth: '[answer text or letter]' },
  slake: { supported: true, dataSource: 'slake', groundTruth: '[answer]' },
  microvqa: {
    supported: true,
    dataSource: 'microvqa',
    groundTruth: '[correct letter, correct option text]',
  },
  msearth: {
    supported: true,
    dataSource: 'msearthmcq',
    groundTruth: '[correct letter, correct option text]',
  },
  mathvista: { supported: false, reason: DEFAULT_PATH },
  charxiv: { supported: false, reason: DEFAULT_PATH },
  hrbench4k: {
    supported: false,
    reason: `${DEFAULT_PATH}; the map's "zwz" key names no data set, so it is not assumed to be HR-Bench`,
  },
  ocrbench: { supported: false, reason: DEFAULT_PATH },
  vlmsareblind: { supported: false, reason: DEFAULT_PATH },
  erqa: { supported: false, reason: DEFAULT_PATH },
  humanevalv: {
    supported: false,
    reason:
      `${DEFAULT_PATH}; the release ships a HumanEval-V scorer (humaneval_v.py, runs the code) ` +
      'but its reward manager never calls it',
  },
};
