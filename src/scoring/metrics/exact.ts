import type { Item } from '../../core/items.ts';
import {
  acceptedAnswers,
  fmtNum,
  normText,
  parseNumber,
  sameNumber,
  stripOuterBrackets,
  yesNo,
} from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';

/**
 * Normalised exact match (CharXiv, VLMs Are Blind). Case, runs of whitespace, surrounding
 * quotes and trailing punctuation are ignored, as are brackets around the whole answer
 * ("{3}", "(B)"). Numbers compare by value ("3.0" = "3", "1,000" = "1000", "45%" = "45").
 * Yes/no answers accept yes/no/true/false in any case with punctuation ("Yes." = "yes",
 * "True" = "yes"); nothing looser ("Y", "yeah") is accepted.
 */

/** The comparable form of an answer: a number, a yes/no, or normalised text. */
export function exactForm(text: string): { kind: 'number'; value: number } | { kind: 'text'; value: string } {
  const t = stripOuterBrackets(normText(text));
  const n = parseNumber(t);
  if (n !== null) return { kind: 'number', value: n.value };
  return { kind: 'text', value: yesNo(t) ?? normText(t) };
}

export const exact: MetricDefinition = {
  id: 'exact',
  description:
    'normalised exact match: case, spacing, brackets and trailing punctuation ignored; numbers by value; yes/no/true/false',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    const pred = exactForm(extracted);
    let why = 'no accepted answer';
    for (const gold of acceptedAnswers(item.answers)) {
      const g = exactForm(gold);
      if (g.kind === 'number' && pred.kind === 'number') {
        if (sameNumber(g.value, pred.value)) return right(extracted, `number ${fmtNum(g.value)} matches`);
        why = `${fmtNum(pred.value)} ≠ ${fmtNum(g.value)}`;
      } else if (g.kind === 'text' && pred.kind === 'text') {
        if (g.value === pred.value && g.value !== '') return right(extracted, `matches ${show(gold)}`);
        why = `${show(pred.value)} ≠ ${show(g.value)}`;
      } else {
        why = `${show(extracted)} ≠ ${show(gold)} (${g.kind === 'number' ? 'gold is a number' : 'gold is text'})`;
      }
    }
    return wrong(extracted, why);
  },
};
