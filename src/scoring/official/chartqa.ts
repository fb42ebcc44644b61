import { show } from '../types.ts';
import { pyFloat, pyRstrip, pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * ChartQA relaxed accuracy, as VLMEvalKit's `relaxed_correctness` (vlmeval/dataset/utils/
 * vqa_eval.py; lmms-eval's chartqa/utils.py is the same rule) scores it. The reply is
 * stripped; then, when Python's `float()` reads both it and the answer (a trailing `%` is cut
 * and divides by 100) and the answer is not 0, the reply is right within 5 % of the answer
 * (|pred − gold| / |gold| ≤ 0.05, in floating point, no slack). Otherwise the two must be
 * equal ignoring case. So "1,000", "$5", "45 %"-free units and "0.0" for a gold "0" are wrong,
 * and "45%" is 0.45. An item is right when any accepted answer matches (VLMEvalKit takes the
 * maximum over answers).
 */

export const MAX_RELATIVE_CHANGE = 0.05;

/** VLMEvalKit's `_to_float`: Python float of the text, a trailing run of `%` dividing by 100. */
export function chartqaFloat(text: string): number | null {
  if (text.endsWith('%')) {
    const v = pyFloat(pyRstrip(text, '%'));
    return v === null ? null : v / 100;
  }
  return pyFloat(text);
}

/** `relaxed_correctness(target, prediction)`: the reply is already stripped. */
export function relaxedCorrectness(target: string, prediction: string): { ok: boolean; why: string } {
  const p = chartqaFloat(prediction);
  const t = chartqaFloat(target);
  // Python's `target_float` test: 0 is false, NaN is true (and then nothing is within 5 %).
  if (p !== null && t !== null && t !== 0) {
    const change = Math.abs(p - t) / Math.abs(t);
    const ok = change <= MAX_RELATIVE_CHANGE;
    return {
      ok,
      why: `${p} is ${Number.isNaN(change) ? 'not comparable to' : `${(change * 100).toPrecision(3)}% from`} ${t} (limit 5%)`,
    };
  }
  const ok = prediction.toLowerCase() === target.toLowerCase();
  return { ok, why: `${ok ? 'equal to' : 'not equal to'} ${show(target)} as text, ignoring case` };
}

export const chartqaOfficial: OfficialScorer = {
  name: 'chartqa',
  source: 'open-compass/VLMEvalKit vlmeval/dataset/utils/vqa_eval.py',
  score(item, prediction) {
    const pred = pyStrip(prediction);
    let why = 'no accepted answer';
    for (const gold of item.answers) {
      const r = relaxedCorrectness(gold, pred);
      if (r.ok) return officialVerdict(true, pred, r.why);
      why = r.why;
    }
    return officialVerdict(false, pred || null, why);
  },
};
