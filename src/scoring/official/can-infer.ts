import { pySplit, pyStrip } from './py.ts';

/**
 * VLMEvalKit's rule-based option matching (vlmeval/utils/matching_util.py can_infer), used by
 * its multiple-choice evaluation before, or without, a judge model (the `exact_matching`
 * policy of vlmeval/dataset/utils/multiple_choice.py extract_answer_from_item).
 *
 * can_infer_option: the reply with `.()[],:;!*#{}` turned into spaces is split into words;
 * when exactly one option letter occurs as a word and it is among the last four words, that
 * letter. Refusal phrases give "Z" (no answer), as does a lone word "Z" when no letter occurs.
 * Else "answer is X" (case-insensitive, X one of A–D, bold allowed) gives X.
 * can_infer_text: otherwise, a reply at most twice as long as all option texts together that
 * contains exactly one option's text (lower-cased) gives that option.
 * Nothing matched is null: without a judge that is VLMEvalKit's "Z", a wrong answer.
 */

const REFUSALS = [
  "Sorry, I can't help with images of people yet.",
  "I can't process this file.",
  "I'm sorry, but without the image provided",
  'Cannot determine the answer',
];
const VERBOSE_ANSWER = /(?:correct\s+)?answer\s+is\s+\**([ABCD])\**/i;
const SEPARATORS = new Set([...'.()[],:;!*#{}']);

/** Option letter → option text, in option order (VLMEvalKit's `choices` dict). */
export type Choices = Array<[string, string]>;

export function canInferOption(answer: string, choices: Choices): string | false {
  if (answer.includes('Failed to obtain answer via API')) return false;
  if (REFUSALS.some((r) => answer.includes(r))) return 'Z';
  let mod = '';
  for (const ch of answer) mod += SEPARATORS.has(ch) ? ' ' : ch;
  const splits = pySplit(mod).map((x) => pyStrip(x));
  const letters = choices.map(([k]) => k);
  const count = letters.filter((k) => splits.includes(k)).length;
  if (count === 1) {
    for (const k of letters) {
      if (splits.includes(k) && splits.indexOf(k) > splits.length - 5) return k;
    }
  } else if (count === 0 && splits.includes('Z')) {
    return 'Z';
  }
  const m = VERBOSE_ANSWER.exec(answer);
  const letter = m ? (m[1] as string).toUpperCase() : '';
  return m && letters.includes(letter) ? letter : false;
}

export function canInferText(answer: string, choices: Choices): string | false {
  const lower = answer.toLowerCase();
  const total = choices.reduce((n, [, v]) => n + [...v].length, 0);
  if ([...lower].length > 2 * total) return false;
  const cands = choices.filter(([, v]) => lower.includes(v.toLowerCase())).map(([k]) => k);
  return cands.length === 1 ? (cands[0] as string) : false;
}

/** can_infer: the option letter, "Z" for a refusal, or null when the rules read nothing. */
export function canInfer(answer: string, choices: Choices): string | null {
  const opt = canInferOption(answer, choices);
  if (opt) return opt;
  return canInferText(answer, choices) || null;
}
