import type { Item } from '../../core/items.ts';
import { evaluateMath, normaliseMath } from '../math-expr.ts';
import { acceptedAnswers, fmtNum, roundTo } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';
import { matchChoice } from './choice.ts';

/**
 * Math-normalised equality (Geometry3K). Both sides are normalised (spaces, `$`, units,
 * degree signs, thousands separators removed; `\dfrac` → `\frac`, `√` → `\sqrt`, "x = 5" → "5").
 * Equal text is correct; otherwise both are evaluated as closed-form numbers (fractions,
 * roots, π) and are equal when they agree to 2 decimals: same value after rounding to 2
 * decimals, or less than 0.005 apart (so 3.465 and 3.4649 agree). When the item has options
 * and the answer is just a label ("B", "(B)"), the label's option text is scored instead.
 */

const TOLERANCE = 0.005 + 1e-9;

function numericallyEqual(a: number, b: number): boolean {
  return roundTo(a, 2) === roundTo(b, 2) || Math.abs(a - b) <= TOLERANCE;
}

export const math: MetricDefinition = {
  id: 'math',
  description:
    'math-normalised equality: units, degrees and spacing ignored; numeric values (fractions, roots, π) equal to 2 decimals',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    let answer = extracted;
    let via = '';
    const options = item.options ?? [];
    if (options.length > 0) {
      const m = matchChoice(options, extracted);
      const opt = options.find((o) => o.label === m.label);
      if (opt && m.how === 'label') {
        answer = opt.text;
        via = ` (option ${opt.label})`;
      }
    }
    const pred = normaliseMath(answer);
    const pv = evaluateMath(pred);
    let why = '';
    for (const gold of acceptedAnswers(item.answers)) {
      const g = normaliseMath(gold);
      if (g === pred && g !== '')
        return right(extracted, `${show(pred)} equals gold after normalisation${via}`);
      const gv = evaluateMath(g);
      if (gv !== null && pv !== null) {
        if (numericallyEqual(pv, gv)) {
          return right(extracted, `${fmtNum(pv)} ≈ ${fmtNum(gv)} (${show(gold)}) to 2 decimals${via}`);
        }
        why = `${fmtNum(pv)} ≠ ${fmtNum(gv)} (${show(gold)})${via}`;
      } else if (gv !== null) {
        why = `${show(pred)} is not a number; gold ${show(gold)} = ${fmtNum(gv)}${via}`;
      } else {
        why = `${show(pred)} ≠ ${show(g)}${via}`;
      }
    }
    return wrong(extracted, why || 'no accepted answer');
  },
};
