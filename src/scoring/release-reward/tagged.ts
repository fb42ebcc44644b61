import { extractTaggedAnswer } from './answer-extract.ts';
import { pyFloat, pyIn, pyLen, pyLower, pyRound2, pyStrip } from './py.ts';

/**
 * The release's tagged-answer reward family: chartqa, msearthmcq, slake, vstar, zwz. Each
 * extracts an answer from the whole response (see answer-extract.ts), compares it with the
 * ground truth list, and scores 1 or 0. A response without both an `<answer>` and an
 * `</answer>` somewhere scores 0 whatever was extracted. With the reward manager's defaults
 * (format_score 0, no cost) the reward the manager reads equals this 0/1 accuracy.
 */

export interface FunctionVerdict {
  /** The function's reward (what the reward manager reads): 1 or 0 here. */
  score: number;
  /** The extracted answer, or null when the function extracted nothing. */
  extracted: string | null;
}

type Comparator = (extracted: string, target: string[]) => boolean;

function bothWays(a: string, b: string): boolean {
  return pyIn(a, b) || pyIn(b, a);
}

function isNumericOnly(text: string): boolean {
  const cleaned = text.replace(/[ ,.]/g, '');
  // Python's `$` also matches before one final newline.
  return /^[\p{Nd}.,\-/]+\n?$/u.test(cleaned);
}

/** chartqa: numeric targets compare round(x, 2); others a case-insensitive substring either way. */
const chartqa: Comparator = (extracted, target) => {
  if (target.length === 0) return false;
  const want = target[0]!;
  if (isNumericOnly(want)) {
    const got = pyFloat(pyStrip(extracted));
    const ref = pyFloat(pyStrip(want));
    if (got === null || ref === null) return false;
    return pyRound2(got) === pyRound2(ref);
  }
  return bothWays(pyLower(extracted), pyLower(want));
};

/** msearthmcq (also microvqa): a single character must equal the letter; longer text must overlap the option text. */
const msearthmcq: Comparator = (extracted, target) => {
  if (target.length < 2) return false;
  const got = pyLower(extracted);
  if (pyLen(extracted) === 1) return got === pyLower(target[0]!);
  return bothWays(got, pyLower(target[1]!));
};

/** slake: yes/no targets must occur in the answer; others a substring either way. */
const slake: Comparator = (extracted, target) => {
  if (target.length === 0) return false;
  const want = pyLower(pyStrip(target[0]!));
  const got = pyLower(extracted);
  if (want === 'yes' || want === 'no') return pyIn(want, got);
  return bothWays(got, want);
};

/** vstar: yes/no targets must equal the stripped answer; others a substring either way. */
const vstar: Comparator = (extracted, target) => {
  if (target.length === 0) return false;
  const want = pyLower(target[0]!);
  if (want === 'yes' || want === 'no') return pyStrip(want) === pyStrip(extracted);
  return bothWays(want, extracted);
};

/** zwz: a single character must equal the first target; longer text must overlap it. */
const zwz: Comparator = (extracted, target) => {
  const want = pyLower(target[0]!);
  const got = pyLower(extracted);
  if (pyLen(extracted) === 1) return got === want;
  return bothWays(got, want);
};

export const TAGGED_FUNCTIONS = {
  compute_score_chartqa: chartqa,
  compute_score_msearthmcq: msearthmcq,
  compute_score_slake: slake,
  compute_score_vstar: vstar,
  compute_score_zwz: zwz,
} as const;

export type TaggedFunctionName = keyof typeof TAGGED_FUNCTIONS;

/** Runs one tagged-family function on a whole response. */
export function scoreTagged(fn: TaggedFunctionName, response: string, target: string[]): FunctionVerdict {
  const hasTag = response.includes('<answer>') && response.includes('</answer>');
  let extracted = extractTaggedAnswer(response);
  if (fn === 'compute_score_vstar') extracted = pyLower(extracted);
  if (!extracted) return { score: 0, extracted: null };
  // zwz reads target[0] unguarded: an empty list raises, and the release's error path scores
  // 0 and reports the whole response as the answer.
  if (fn === 'compute_score_zwz' && target.length === 0) return { score: 0, extracted: response };
  const correct = TAGGED_FUNCTIONS[fn](extracted, target);
  return { score: correct && hasTag ? 1 : 0, extracted };
}
