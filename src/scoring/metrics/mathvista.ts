import type { Item } from '../../core/items.ts';
import { acceptedAnswers, fmtNum, normText, parseNumber, roundTo, sameNumber } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';
import { scoreChoice } from './choice.ts';

/**
 * MathVista (testmini). Items with options are scored like `choice` (label or option text).
 * Free-form items: when the gold answer is a number, the prediction must be a number too
 * (after removing `extra.unit`, e.g. "5 cm" with unit "cm"); both are rounded to
 * `extra.precision` decimals when the item gives one, else compared exactly. Other answers
 * (text, lists) compare by normalised text; lists ("[1, 2]") ignore spacing.
 */

function readPrecision(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 12 ? n : null;
}

function withoutUnit(text: string, unit: string): string {
  let t = text.trim();
  if (unit) {
    const u = unit.trim().toLowerCase();
    if (u && t.toLowerCase().endsWith(u)) t = t.slice(0, t.length - u.length).trim();
  }
  const eq = t.lastIndexOf('=');
  return eq >= 0 ? t.slice(eq + 1).trim() : t;
}

function textForm(text: string): string {
  const n = normText(text);
  return n.startsWith('[') || n.startsWith('(') ? n.replace(/\s+/g, '') : n;
}

export const mathvista: MetricDefinition = {
  id: 'mathvista',
  description:
    'MathVista: choice items by label or option text; numbers at the item precision after removing its unit; else normalised text',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    if ((item.options?.length ?? 0) > 0) return scoreChoice(item, extracted);
    const precision = readPrecision(item.extra.precision);
    const unit = typeof item.extra.unit === 'string' ? item.extra.unit : '';
    const golds = acceptedAnswers(item.answers);
    const pred = parseNumber(withoutUnit(extracted, unit));
    let why = '';
    for (const gold of golds) {
      const g = parseNumber(withoutUnit(gold, unit));
      if (g !== null) {
        if (pred === null) {
          why = `gold ${show(gold)} is a number, the answer is not`;
          continue;
        }
        if (precision !== null) {
          const a = roundTo(pred.value, precision);
          const b = roundTo(g.value, precision);
          if (a === b)
            return right(extracted, `${fmtNum(pred.value)} = ${fmtNum(g.value)} at ${precision} decimals`);
          why = `${fmtNum(a)} ≠ ${fmtNum(b)} at ${precision} decimals`;
        } else {
          if (sameNumber(pred.value, g.value)) return right(extracted, `number ${fmtNum(g.value)} matches`);
          why = `${fmtNum(pred.value)} ≠ ${fmtNum(g.value)}`;
        }
        continue;
      }
      if (textForm(extracted) === textForm(gold)) return right(extracted, `text matches ${show(gold)}`);
      why = `text ${show(extracted)} ≠ ${show(gold)}`;
    }
    return wrong(extracted, why || 'no accepted answer');
  },
};
