import type { Item } from '../../core/items.ts';
import { acceptedAnswers, fmtNum, normText, parseNumber } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';

/**
 * ChartQA relaxed accuracy. When both the gold answer and the prediction are numbers, the
 * prediction may be off by at most 5 % of the gold value (|pred − gold| ≤ 0.05·|gold|); a
 * gold value of 0 needs exactly 0. Thousands separators, a currency sign and a percent sign
 * are formatting: "45%" and "45" are the same number (unlike the original script, which
 * divides by 100 only on one side). Everything else compares as text, case-insensitively,
 * ignoring surrounding whitespace and punctuation.
 */

export const RELAXED_TOLERANCE = 0.05;

export const relaxed: MetricDefinition = {
  id: 'relaxed',
  description:
    'relaxed accuracy (ChartQA): numbers within 5 % relative error (gold 0 needs 0), text exact and case-insensitive',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    const pred = parseNumber(extracted);
    let why = 'no accepted answer';
    for (const gold of acceptedAnswers(item.answers)) {
      const g = parseNumber(gold);
      if (g !== null && pred !== null) {
        if (g.value === 0) {
          if (pred.value === 0) return right(extracted, 'exactly 0, as the gold answer');
          why = `gold is 0 and needs exactly 0, got ${fmtNum(pred.value)}`;
          continue;
        }
        const rel = Math.abs(pred.value - g.value) / Math.abs(g.value);
        const pct = `${fmtNum(Math.round(rel * 1000) / 10)}%`;
        if (rel <= RELAXED_TOLERANCE + 1e-12)
          return right(extracted, `${fmtNum(pred.value)} within 5% of ${fmtNum(g.value)} (${pct})`);
        why = `${fmtNum(pred.value)} is ${pct} from ${fmtNum(g.value)} (limit 5%)`;
        continue;
      }
      if (normText(extracted) === normText(gold)) return right(extracted, `text matches ${show(gold)}`);
      why =
        g !== null
          ? `gold ${show(gold)} is a number, the answer is not`
          : `text ${show(extracted)} ≠ ${show(gold)}`;
    }
    return wrong(extracted, why);
  },
};
