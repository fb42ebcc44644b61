import type { Item, ScoreResult } from '../core/items.ts';

/** What answer extraction found in a model's output, and how. */
export interface Extraction {
  /** The answer text, or null when nothing usable was found. */
  extracted: string | null;
  /** Where it came from, e.g. `tag:boxed`, `raw:answer-is`, `tag:content`, `raw:last-line`, `none`. */
  method: string;
}

/**
 * A metric: the definition object the registry in `metrics/index.ts` collects.
 * `score` is pure apart from `code_pass`, which runs the candidate program in a child process.
 */
export interface MetricDefinition {
  /** The id benchmarks name in `benchmarks/catalog.yaml` (`metric:`). */
  id: string;
  description: string;
  /** True for model-graded metrics (an LLM judge). All metrics here are rule-based. */
  requiresModel: boolean;
  /** Judges one extracted prediction. `extracted === null` always scores as wrong. */
  score(item: Item, extracted: string | null): ScoreResult | Promise<ScoreResult>;
  /**
   * Optional extraction override. Metrics whose answers are not short strings (code) take
   * their input differently; everything else uses the shared `extractAnswer`.
   */
  extract?: (raw: string) => Extraction;
}

/** A wrong verdict with a reason. */
export function wrong(extracted: string | null, reason: string): ScoreResult {
  return { correct: false, score: 0, extracted, reason };
}

/** A right verdict with a reason. */
export function right(extracted: string | null, reason: string): ScoreResult {
  return { correct: true, score: 1, extracted, reason };
}

/** Shortens a value for use inside a reason. */
export function show(value: string, max = 60): string {
  const one = value.replace(/\s+/g, ' ').trim();
  return `"${one.length > max ? `${one.slice(0, max - 1)}…` : one}"`;
}
