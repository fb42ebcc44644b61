import type { Item } from '../../core/items.ts';
import { acceptedAnswers, normText, yesNo } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';

/**
 * SLAKE (medical VQA). Closed questions (yes/no, or a choice between named alternatives)
 * need an exact match after normalisation; a yes/no answer may go on ("Yes, on the left" is
 * yes). Open questions are right when the normalised gold answer appears in the prediction
 * or the prediction appears in the gold answer, as whole words ("left lung" ⊂ "the left
 * lung"; but "a" is not inside "brain").
 *
 * Closed or open: `extra.answerType` / `extra.answer_type` ("CLOSED"/"OPEN", as SLAKE
 * ships it), or `extra.closed` (boolean); without either, a yes/no gold answer is closed.
 */

export function isClosed(item: Item): boolean {
  const kind = item.extra.answerType ?? item.extra.answer_type ?? item.extra.qtype;
  if (typeof kind === 'string' && /^(closed|open)$/i.test(kind.trim()))
    return kind.trim().toLowerCase() === 'closed';
  if (typeof item.extra.closed === 'boolean') return item.extra.closed;
  return item.answers.some((a) => yesNo(a) !== null);
}

function words(text: string): string[] {
  return normText(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '');
}

function containsWords(hay: string[], needle: string[]): boolean {
  if (needle.length === 0 || needle.length > hay.length) return false;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    let ok = true;
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Yes/no at the start of a longer answer: "Yes, there is" → yes. */
function leadingYesNo(text: string): 'yes' | 'no' | null {
  const first = words(text)[0];
  return first === undefined ? null : yesNo(first);
}

const MAX_SLAKE_WORDS = 400;

export const slake: MetricDefinition = {
  id: 'slake',
  description:
    'SLAKE: closed questions exact (yes/no aware); open questions by normalised whole-word containment either way',
  requiresModel: false,
  score(item: Item, extracted: string | null) {
    if (extracted === null) return wrong(null, 'no answer');
    const golds = acceptedAnswers(item.answers);
    if (isClosed(item)) {
      const pyn = yesNo(extracted) ?? leadingYesNo(extracted);
      for (const gold of golds) {
        const gyn = yesNo(gold);
        if (gyn !== null) {
          if (pyn === gyn) return right(extracted, `closed: ${gyn} matches`);
        } else if (normText(gold) === normText(extracted)) {
          return right(extracted, `closed: matches ${show(gold)}`);
        }
      }
      return wrong(extracted, `closed: ${show(extracted)} ≠ ${golds.map((g) => show(g)).join(' / ')}`);
    }
    const pred = words(extracted).slice(0, MAX_SLAKE_WORDS);
    if (pred.length === 0) return wrong(extracted, 'open: empty answer');
    for (const gold of golds) {
      const g = words(gold);
      if (containsWords(pred, g)) return right(extracted, `open: answer contains ${show(gold)}`);
      if (containsWords(g, pred)) return right(extracted, `open: ${show(gold)} contains the answer`);
    }
    return wrong(extracted, `open: no containment with ${golds.map((g) => show(g)).join(' / ')}`);
  },
};
