import type { Benchmark } from '../core/benchmarks.ts';
import type { Item, ScoreResult } from '../core/items.ts';
import type { JudgeContext } from '../core/judge.ts';
import { extractAnswer } from './extract.ts';
import { getMetric } from './metrics/index.ts';
import { DEFAULT_SCORING_MODE, type ScoringMode } from './modes.ts';
import { findOfficialScorer, type OfficialScorer, officialPrediction } from './official/index.ts';

/**
 * The scoring stage: pure code over `src/core` contracts (it never touches the queue).
 * extract → metric → per-item ScoreResult; aggregate → Summary; writeReport → tables.
 */

export {
  aggregate,
  type Cell,
  findCell,
  type LatencyStats,
  type PolicySummary,
  type Summary,
  wilson,
} from './aggregate.ts';
export { answerTagContent, extractAnswer } from './extract.ts';
export { failedRecord, itemLine } from './failed.ts';
export { type CodePassOptions, createCodePassMetric } from './metrics/code-pass.ts';
export { getMetric, metrics } from './metrics/index.ts';
export { DEFAULT_SCORING_MODE, modeOf, ScoringMode } from './modes.ts';
export {
  findOfficialScorer,
  getOfficialScorer,
  type OfficialScorer,
  officialPrediction,
  officialScorers,
} from './official/index.ts';
export { type PairedDifference, type PairedOptions, pairedDifference } from './paired.ts';
export {
  buildRecord,
  type RolloutIds,
  type RolloutOutcome,
  recordFromRollout,
  type ScoredOutcome,
  type ScoreFn,
  scoreOutcome,
} from './record.ts';
export { type Report, type ReportOptions, writeReport } from './report.ts';
export type { Extraction, MetricDefinition } from './types.ts';

/**
 * The scorer that judges a benchmark in a mode: its scorer of record in `official` mode when
 * the catalog names one and it is implemented; otherwise undefined (the lenient metric).
 */
export function scorerFor(benchmark: Benchmark, mode: ScoringMode): OfficialScorer | undefined {
  if (mode !== 'official' || !benchmark.scorer) return undefined;
  return findOfficialScorer(benchmark.scorer.name);
}

/** True when scoring this benchmark in this mode may ask a judge model (if the sweep has one). */
export function usesJudge(benchmark: Benchmark, mode: ScoringMode): boolean {
  return scorerFor(benchmark, mode)?.usesJudge === true;
}

/**
 * Scores one model output in a scoring mode (default `official`).
 * Official: the benchmark's scorer of record judges the reply (`officialPrediction`), and the
 * verdict carries `mode: 'official'`. Lenient (and official for a benchmark whose scorer of
 * record is not implemented): extract the answer (the metric's own extraction for code), then
 * apply the benchmark's metric; nothing extracted is a wrong answer with the reason "no answer
 * could be extracted"; the verdict carries no mode. Throws for an unknown metric or an item
 * the scorer cannot judge (bad item data, no python3, a judge model that failed for good):
 * the caller records an item error, never a wrong answer. `judge`: the sweep's judge model,
 * given to official scorers that use one (CharXiv, MathVista's extraction step).
 */
export async function scoreItem(
  item: Item,
  benchmark: Benchmark,
  rawOutput: string,
  mode: ScoringMode = DEFAULT_SCORING_MODE,
  judge?: JudgeContext,
): Promise<ScoreResult> {
  const official = scorerFor(benchmark, mode);
  if (official) {
    const result = await official.score(item, officialPrediction(rawOutput), judge);
    return { ...result, score: Math.min(1, Math.max(0, result.score)), mode: 'official' };
  }
  const metric = getMetric(benchmark.metric);
  const { extracted } = (metric.extract ?? extractAnswer)(rawOutput);
  if (extracted === null)
    return { correct: false, score: 0, extracted: null, reason: 'no answer could be extracted' };
  const result = await metric.score(item, extracted);
  return { ...result, score: Math.min(1, Math.max(0, result.score)) };
}
