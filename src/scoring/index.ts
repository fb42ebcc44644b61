import type { Benchmark } from '../core/benchmarks.ts';
import type { Item, ScoreResult } from '../core/items.ts';
import { extractAnswer } from './extract.ts';
import { getMetric } from './metrics/index.ts';

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
 * Scores one model output: extract the answer (the metric's own extraction for code),
 * then apply the benchmark's metric. Nothing extracted is a wrong answer with the reason
 * "no answer could be extracted". Throws for an unknown metric or an item the metric cannot
 * judge (bad item data, no python3): the caller records an item error, never a wrong answer.
 */
export async function scoreItem(item: Item, benchmark: Benchmark, rawOutput: string): Promise<ScoreResult> {
  const metric = getMetric(benchmark.metric);
  const { extracted } = (metric.extract ?? extractAnswer)(rawOutput);
  if (extracted === null)
    return { correct: false, score: 0, extracted: null, reason: 'no answer could be extracted' };
  const result = await metric.score(item, extracted);
  return { ...result, score: Math.min(1, Math.max(0, result.score)) };
}
