import type { Item, ScoreResult } from '../../core/items.ts';
import type { JudgeContext } from '../../core/judge.ts';

/**
 * A benchmark's scorer of record, re-implemented from its published rules. It judges the
 * model's reply as the original scorer sees it (see `officialPrediction`), with the
 * original's own answer extraction and comparison, nothing more lenient.
 */
export interface OfficialScorer {
  /** The id a catalog entry names in `scorer.name`. */
  name: string;
  /** The upstream repository and file the rules come from. */
  source: string;
  /**
   * True when the upstream scorer needs a judge model and, without one (`judge` not given),
   * this scores with a stand-in: its verdicts say so in their reason, and tables label them as
   * a proxy.
   */
  proxy?: boolean;
  /** True when the scorer asks a judge model when the sweep has one (CharXiv, MathVista). */
  usesJudge?: boolean;
  /**
   * Judges one reply. Throws (typed) for an item it cannot judge or when the judge fails for
   * good; never for a bad reply. `judge`: the sweep's judge model, for scorers that use one.
   */
  score(item: Item, prediction: string, judge?: JudgeContext): ScoreResult | Promise<ScoreResult>;
}

/** An official verdict. */
export function officialVerdict(
  correct: boolean,
  extracted: string | null,
  reason: string,
  score = correct ? 1 : 0,
): ScoreResult {
  return { correct, score, extracted, reason, mode: 'official' };
}
