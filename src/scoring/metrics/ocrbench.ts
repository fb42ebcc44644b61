import type { Item } from '../../core/items.ts';
import { acceptedAnswers } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';

/**
 * OCRBench. Right when any accepted answer is contained in the prediction, both lowercased
 * with whitespace runs collapsed to one space. Formula items compare with all whitespace
 * removed and case kept (LaTeX is case-sensitive; this matches OCRBench's own handling of its
 * handwritten-expression subset). An item is a formula item when `extra.formula` is true or
 * `extra.category` mentions "formula" or "mathematical expression" (OCRBench's HME100k
 * category is "Handwritten Mathematical Expression Recognition").
 */

export function isFormulaItem(item: Item): boolean {
  if (item.extra.formula === true) return true;
  const cat = item.extra.category ?? item.extra.question_type ?? item.extra.type;
  return typeof cat === 'string' && /formula|mathematical expression/i.test(cat);
}

const MAX_OCR_INPUT = 100_000;

export const ocrbench: MetricDefinition = {
  id: 'ocrbench',
  description:
    'OCRBench: any accepted answer contained in the prediction (lowercased, spacing collapsed; formulas without whitespace)',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    const formula = isFormulaItem(item);
    const norm = formula
      ? (s: string) => s.replace(/\s+/g, '')
      : (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
    const pred = norm(extracted.slice(0, MAX_OCR_INPUT));
    const kind = formula ? 'formula, whitespace removed' : 'lowercased';
    for (const gold of acceptedAnswers(item.answers)) {
      const g = norm(gold);
      if (g !== '' && pred.includes(g)) return right(extracted, `contains ${show(gold)} (${kind})`);
    }
    return wrong(extracted, `none of ${item.answers.length} accepted answer(s) found (${kind})`);
  },
};
