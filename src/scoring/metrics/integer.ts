import type { Item } from '../../core/items.ts';
import { acceptedAnswers, fmtNum, parseNumber } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';

/**
 * Exact integer (TallyQA counting). The count is read from the answer: digits ("3",
 * "1,000", "3.0") or number words zero…twenty, "none" (0), "a dozen" / "dozen" (12) and
 * "half a dozen" (6). Other words are ignored, so "3 apples" and "there are three" give 3;
 * an answer naming two different numbers ("3 or 4") is ambiguous and wrong.
 */

const WORDS: Record<string, number> = {
  zero: 0,
  none: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  dozen: 12,
};

const MAX_INTEGER_INPUT = 500;

export type CountReading = { value: number } | { value: null; why: string };

/** Reads the single number an answer states (see the rules above). */
export function readCount(text: string): CountReading {
  const t = (text.length > MAX_INTEGER_INPUT ? text.slice(0, MAX_INTEGER_INPUT) : text).toLowerCase();
  const whole = parseNumber(t.replace(/[.!?]+$/, ''));
  if (whole !== null && !whole.percent) return { value: whole.value };
  const phrased = t.replace(/\bhalf\s+a\s+dozen\b/g, ' 6 ').replace(/\b(?:a|one)\s+dozen\b/g, ' 12 ');
  const values = new Set<number>();
  const re = /-?\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+/g;
  let m: RegExpExecArray | null = re.exec(phrased);
  for (let i = 0; m && i < 200; i++, m = re.exec(phrased)) {
    const tok = m[0];
    if (/^-?\d/.test(tok)) {
      const n = parseNumber(tok);
      if (n) values.add(n.value);
    } else if (tok in WORDS) {
      values.add(WORDS[tok] as number);
    }
  }
  if (values.size === 0) return { value: null, why: 'no number in the answer' };
  if (values.size > 1) return { value: null, why: `several numbers (${[...values].map(fmtNum).join(', ')})` };
  return { value: [...values][0] as number };
}

export const integer: MetricDefinition = {
  id: 'integer',
  description: 'exact integer; number words zero…twenty and "a dozen" understood; "3 apples" reads as 3',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    const pred = readCount(extracted);
    if (pred.value === null) return wrong(extracted, pred.why);
    if (!Number.isInteger(pred.value)) return wrong(extracted, `${fmtNum(pred.value)} is not an integer`);
    let why = 'no accepted answer';
    for (const gold of acceptedAnswers(item.answers)) {
      const g = readCount(gold);
      if (g.value === null) {
        why = `gold ${show(gold)} is not a count`;
        continue;
      }
      if (g.value === pred.value) return right(extracted, `count ${pred.value} matches`);
      why = `count ${pred.value} ≠ ${fmtNum(g.value)}`;
    }
    return wrong(extracted, why);
  },
};
