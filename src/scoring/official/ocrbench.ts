import type { Item } from '../../core/items.ts';
import { show } from '../types.ts';
import { pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * OCRBench, as MultimodalOCR's OCRBench/example.py scores it (VLMEvalKit's OCRBench.evaluate
 * is the same rule): right when one accepted answer is a substring of the reply.
 * - Handwritten mathematical expressions (dataset HME100k): answer and reply are stripped,
 *   newlines become spaces and every space is removed; case is kept.
 * - Everything else: both lower-cased and stripped, newlines become spaces; nothing else is
 *   cleaned (punctuation, quotes and inner spacing must match).
 * The reply is not shortened or extracted: any reply containing the answer scores.
 */

const HME_CATEGORY = 'Handwritten Mathematical Expression Recognition';

/** Whether OCRBench scores this item as a handwritten formula (HME100k). */
export function isHmeItem(item: Item): boolean {
  const { dataset_name: ds, category, type } = item.extra;
  return ds === 'HME100k' || category === HME_CATEGORY || type === HME_CATEGORY;
}

const formulaForm = (s: string) => pyStrip(s).replaceAll('\n', ' ').replaceAll(' ', '');
const textForm = (s: string) => pyStrip(s.toLowerCase()).replaceAll('\n', ' ');

export const ocrbenchOfficial: OfficialScorer = {
  name: 'ocrbench',
  source: 'Yuliang-Liu/MultimodalOCR OCRBench/example.py',
  score(item, prediction) {
    const hme = isHmeItem(item);
    const form = hme ? formulaForm : textForm;
    const pred = form(prediction);
    const kind = hme ? 'HME100k: spaces removed, case kept' : 'lower-cased';
    const extracted = pyStrip(prediction) || null;
    for (const gold of item.answers) {
      if (pred.includes(form(gold)))
        return officialVerdict(true, extracted, `contains ${show(gold)} (${kind})`);
    }
    return officialVerdict(
      false,
      extracted,
      `no accepted answer of ${item.answers.length} is in the reply (${kind})`,
    );
  },
};
