import { PermanentError } from '../../core/errors.ts';
import type { Item, ScoreResult } from '../../core/items.ts';
import { acceptedAnswers, cleanAnswer, normText, stripOuterBrackets } from '../normalize.ts';
import { type MetricDefinition, right, show, wrong } from '../types.ts';

/**
 * Multiple choice. The prediction is mapped to an option label, trying in order:
 * 1. a bare label, bracketed or followed by a delimiter: "B", "b", "(B)", "[B]", "B)", "B.", "Option B";
 * 2. exactly one option whose text equals the prediction (case and spacing ignored);
 * 3. a label followed by a delimiter and text: "B. option text", "(B) text", "B: text", "B - text";
 * 4. a bare label then that same option's text: "A dog" when option A is "dog";
 * 5. exactly one distinct "(X)" label inside a longer answer: "I pick (C) because …";
 * 6. exactly one option text appearing as a whole phrase inside the prediction.
 * Anything ambiguous maps to nothing and scores as wrong. The gold label is `answers[0]`
 * (a label, "(B)", or an option's text are all understood).
 */

const MAX_CHOICE_INPUT = 2_000;

type Option = { label: string; text: string };

export interface ChoiceMatch {
  label: string | null;
  how: string;
}

const LABEL_ONLY = /^(?:(?:option|choice|answer)\s*)?[([]?\s*([A-Za-z0-9]{1,3})\s*[)\].:]?$/i;
const LABEL_THEN_TEXT =
  /^(?:(?:option|choice)\s*)?[([]?([A-Za-z0-9]{1,3})(?:[)\]]\s*[.:-]?|\s*[.:-])\s+(\S[\s\S]*)$/i;
const LABEL_SPACE_TEXT = /^([A-Za-z0-9]{1,3})\s+(\S[\s\S]*)$/;

function findLabel(options: Option[], candidate: string): string | null {
  const c = candidate.toLowerCase();
  return options.find((o) => o.label.toLowerCase() === c)?.label ?? null;
}

/** A label candidate as a label of `options`; without options, any single letter. */
function toLabel(options: Option[], candidate: string): string | null {
  if (options.length > 0) return findLabel(options, candidate);
  return /^[A-Za-z]$/.test(candidate) ? candidate.toUpperCase() : null;
}

function phraseIn(haystack: string, needle: string): boolean {
  if (needle === '') return false;
  let from = 0;
  for (let i = 0; i < 100; i++) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) return false;
    const before = haystack[at - 1];
    const after = haystack[at + needle.length];
    const isWord = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
    if (!isWord(before) && !isWord(after)) return true;
    from = at + 1;
  }
  return false;
}

/** Maps a prediction to one of `options`' labels (see the rules above). */
export function matchChoice(options: Option[], prediction: string): ChoiceMatch {
  const raw = (
    prediction.length > MAX_CHOICE_INPUT ? prediction.slice(0, MAX_CHOICE_INPUT) : prediction
  ).trim();
  const norm = normText(raw);
  const anyLabel = options.length === 0;

  const only = LABEL_ONLY.exec(cleanAnswer(raw));
  if (only) {
    const label = toLabel(options, only[1] as string);
    if (label) return { label, how: 'label' };
  }

  const byText = options.filter((o) => normText(o.text) !== '' && normText(o.text) === norm);
  if (byText.length === 1) return { label: (byText[0] as Option).label, how: 'option text' };

  const lt = LABEL_THEN_TEXT.exec(raw);
  if (lt) {
    const label = toLabel(options, lt[1] as string);
    if (label) return { label, how: 'label with text' };
  }

  const ls = LABEL_SPACE_TEXT.exec(raw);
  if (ls && !anyLabel) {
    const label = findLabel(options, ls[1] as string);
    const opt = options.find((o) => o.label === label);
    if (label && opt && normText(opt.text) === normText(ls[2] as string))
      return { label, how: 'label with text' };
  }

  if (!anyLabel) {
    const found = new Set<string>();
    const re = /\(([A-Za-z0-9]{1,3})\)/g;
    let m: RegExpExecArray | null = re.exec(raw);
    for (let i = 0; m && i < 200; i++, m = re.exec(raw)) {
      const label = findLabel(options, m[1] as string);
      if (label) found.add(label);
    }
    if (found.size === 1) return { label: [...found][0] as string, how: 'bracketed label in text' };
    if (found.size > 1) return { label: null, how: `several labels mentioned (${[...found].join(', ')})` };

    const contained = options.filter((o) => phraseIn(norm, normText(o.text)));
    if (contained.length === 1)
      return { label: (contained[0] as Option).label, how: 'option text in answer' };
    if (contained.length > 1) return { label: null, how: 'several option texts mentioned' };
  }
  return { label: null, how: 'no option matched' };
}

/** The gold label of a choice item: answers[0] as a label, "(B)", or an option's text. */
export function goldLabel(item: Item): string | null {
  const gold = item.answers[0];
  if (gold === undefined) return null;
  const options = item.options ?? [];
  if (options.length === 0) return stripOuterBrackets(gold.trim()).toUpperCase() || null;
  const direct = findLabel(options, stripOuterBrackets(gold.trim()));
  if (direct) return direct;
  const byText = options.filter((o) => normText(o.text) === normText(gold));
  return byText.length === 1 ? (byText[0] as Option).label : null;
}

/** Scores a choice item; shared with `mathvista` for its multiple-choice half. */
export function scoreChoice(item: Item, extracted: string | null): ScoreResult {
  if (extracted === null) return wrong(null, 'no answer');
  const gold = goldLabel(item);
  if (gold === null) {
    const first = show(item.answers[0] ?? '');
    throw new PermanentError(
      `item ${item.id}: answers[0] ${first} is neither an option label nor an option text`,
    );
  }
  const options = item.options ?? [];
  const match = matchChoice(options, extracted);
  if (match.label === null) {
    // Without options, fall back to plain equality with an accepted answer.
    if (
      options.length === 0 &&
      acceptedAnswers(item.answers).some((a) => normText(a) === normText(extracted))
    ) {
      return right(extracted, 'matches an accepted answer');
    }
    return wrong(extracted, `could not map ${show(extracted)} to an option: ${match.how}`);
  }
  const ok = match.label.toLowerCase() === gold.toLowerCase();
  const reason = `chose ${match.label} (${match.how}); gold ${gold}`;
  return ok ? right(extracted, reason) : wrong(extracted, reason);
}

export const choice: MetricDefinition = {
  id: 'choice',
  description:
    'multiple-choice accuracy: the answer is mapped to an option by label ("B", "(B)", "B. text") or option text',
  requiresModel: false,
  score: scoreChoice,
};
