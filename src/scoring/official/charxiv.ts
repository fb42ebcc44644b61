import { show } from '../types.ts';
import { pySplit } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * CharXiv grades with a judge model (princeton-nlp/CharXiv src/evaluate.py with the grading
 * instructions of src/constants.py: GPT-4o extracts the final answer and scores 1 when it
 * refers to the same term as the ground truth, allowing other grammar, forms and orders).
 * No judge runs in the cluster yet, so this is an exact-match PROXY, a lower bound of the
 * judge's score: the reply and the answer, with whitespace collapsed, case ignored and one
 * trailing full stop dropped, must be equal. Its verdicts say "proxy".
 */

function proxyForm(text: string): string {
  const t = pySplit(text).join(' ').toLowerCase();
  return t.endsWith('.') ? t.slice(0, -1).trimEnd() : t;
}

export const charxivProxy: OfficialScorer = {
  name: 'charxiv-proxy',
  source: 'princeton-nlp/CharXiv src/evaluate.py',
  proxy: true,
  score(item, prediction) {
    const pred = proxyForm(prediction);
    const hit = item.answers.find((g) => proxyForm(g) === pred && pred !== '');
    const why = hit !== undefined ? `equals ${show(hit)}` : `${show(pred)} ≠ ${show(item.answers[0] ?? '')}`;
    return officialVerdict(
      hit !== undefined,
      pred || null,
      `proxy for the CharXiv judge (exact match): ${why}`,
    );
  },
};
