import { show } from '../types.ts';
import { pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * V* Bench, as lmms-eval scores generated replies (lmms_eval/tasks/vstar_bench/utils.py
 * extract_answer_letter and vstar_process_results). The original V* evaluation
 * (penghao-wu/vstar vstar_bench_eval.py) ranks the options by the model's likelihood, which
 * needs per-option log-probabilities that the cluster's chat experts do not expose; lmms-eval's
 * rule is the published one for generated answers.
 *
 * The reply is stripped and upper-cased, then the first rule that matches gives the letter:
 * it starts with A–D (so "Because…" reads B and "Dog" reads D); "answer/choice/option (is)" then
 * a letter; "(X)"; a letter followed by ".", ")" or "]" anywhere ("…IS RED." reads D); a
 * letter standing alone; the only A–D letter in the reply; its first character. The letter must
 * equal the label.
 */

const PATTERNS = [
  /^([A-D])\s*[.)\]]*/i,
  /(?:THE\s+)?(?:ANSWER|CHOICE|OPTION)(?:\s+IS)?[\s:]+([A-D])/i,
  /\(([A-D])\)/i,
  /([A-D])\s*(?:\.|\)|])/i,
  /(?:^|\s)([A-D])(?:\s|$)/i,
];

/** extract_answer_letter: A–D, or null. */
export function vstarLetter(response: string): string | null {
  const r = pyStrip(response).toUpperCase();
  for (const p of PATTERNS) {
    const m = p.exec(r);
    if (m) return (m[1] as string).toUpperCase();
  }
  const letters = r.match(/[A-D]/g) ?? [];
  if (letters.length === 1) return letters[0] as string;
  return r !== '' && 'ABCD'.includes(r[0] as string) ? (r[0] as string) : null;
}

export const vstarOfficial: OfficialScorer = {
  name: 'vstar',
  source: 'EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/vstar_bench/utils.py',
  score(item, prediction) {
    const letter = vstarLetter(prediction);
    const gold = pyStrip(item.answers[0] ?? '').toUpperCase();
    if (letter === null) return officialVerdict(false, null, `no option letter in ${show(prediction)}`);
    return officialVerdict(letter === gold, letter, `read ${letter}; label ${gold}`);
  },
};
