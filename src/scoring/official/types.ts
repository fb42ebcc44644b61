import type { Item, ScoreResult } from '../../core/items.ts';

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
   * True when the upstream scorer needs something not built yet (a judge model) and this is
   * a stand-in: its verdicts say so in their reason, and tables must label them as a proxy.
   */
  proxy?: boolean;
  /** Judges one reply. Throws (typed) for an item it cannot judge; never for a bad reply. */
  score(item: Item, prediction: string): ScoreResult | Promise<ScoreResult>;
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
