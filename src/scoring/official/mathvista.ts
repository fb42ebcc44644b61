import { PermanentError } from '../../core/errors.ts';
import type { Item, ScoreResult } from '../../core/items.ts';
import type { JudgeContext, JudgeTrace } from '../../core/judge.ts';
import { mathvistaExtractionPrompt, readExtraction } from '../judge/mathvista-prompt.ts';
import { show } from '../types.ts';
import { levenshtein } from './levenshtein.ts';
import { pyFloat, pyFloatRepr, pyInt, pyIntOfFloat, pyRound, pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * MathVista, as lupantech/MathVista scores it: evaluation/extract_answer.py extracts an
 * answer from the reply, evaluation/calculate_score.py normalises it to the answer type and
 * compares it with the answer as text.
 *
 * Extraction (extract_answer): an empty reply is empty; a reply equal to an option's text is
 * that text; for integer answers a reply Python's int() reads, for float answers one float()
 * reads (as str(float)); `The answer is "…".` (quick extraction). Anything else goes to an LLM
 * extractor upstream: here the sweep's judge model when it has one
 * (src/scoring/judge/mathvista-prompt.ts; its reply is kept with the verdict); without a judge
 * the reply itself stands for the extraction (the reason says so), the rule-based fallback.
 * Normalisation (normalize_extracted_answer): multiple choice: stripped, the first "(x)" gives
 * a letter, a letter A… within the options picks that option, anything else picks the option
 * at the smallest edit distance; integer: str(int(float(x))), truncating; float:
 * str(round(float(x), precision)), ties to even; list: the text as it is. Then the normalised
 * answer must equal the answer text exactly (safe_equal).
 */

type AnswerKind = 'integer' | 'float' | 'list' | 'text';

function kindOf(item: Item): AnswerKind {
  const t = item.extra.answer_type;
  if (t === 'integer' || t === 'float' || t === 'list' || t === 'text') return t;
  if (item.answerType === 'integer') return 'integer';
  if (item.answerType === 'number') return 'float';
  if (item.answerType === 'list') return 'list';
  return 'text';
}

/** The option texts (MathVista's `choices`) and the answer text the prediction must equal. */
function choicesAndAnswer(item: Item): { choices: string[]; answer: string } {
  const options = item.options ?? [];
  if (options.length === 0 && item.extra.question_type !== 'multi_choice') {
    return { choices: [], answer: item.answers[0] as string };
  }
  const gold = options.find((o) => o.label === item.answers[0]);
  if (!gold)
    throw new PermanentError(`MathVista item ${item.id}: answer "${item.answers[0]}" is not an option label`);
  return { choices: options.map((o) => o.text), answer: gold.text };
}

/** extract_answer's rule-based steps; `judge` marks a reply that upstream would send to the LLM. */
export function mathvistaExtract(
  response: string,
  choices: string[],
  kind: AnswerKind,
): { text: string; how: string } {
  if (response === '') return { text: '', how: 'empty reply' };
  if (choices.length > 0 && choices.includes(response)) return { text: response, how: 'reply is an option' };
  if (kind === 'integer') {
    const i = pyInt(response);
    if (i !== null) return { text: String(BigInt(pyStrip(response).replace(/_/g, ''))), how: 'int(reply)' };
  }
  if (kind === 'float') {
    const f = pyFloat(response);
    if (f !== null) return { text: pyFloatRepr(f), how: 'float(reply)' };
  }
  const quick = /The answer is "(.*)"\./.exec(response);
  if (quick) return { text: quick[1] as string, how: 'quick extraction' };
  return { text: response, how: 'no judge model: the reply itself stands for the LLM extraction' };
}

/** normalize_extracted_answer: null where upstream gets None. */
export function mathvistaNormalize(
  extraction: string,
  choices: string[],
  kind: AnswerKind,
  precision: unknown,
): string | null {
  if (choices.length > 0) {
    let e = pyStrip(extraction);
    const letter = /\(([a-zA-Z])\)/.exec(e);
    if (letter) e = (letter[1] as string).toUpperCase();
    const idx = e.length === 1 ? e.charCodeAt(0) - 65 : -1;
    if (idx >= 0 && idx < choices.length) return choices[idx] as string;
    let best = 0;
    const dist = choices.map((c) => levenshtein(e, c));
    dist.forEach((d, i) => {
      if (d < (dist[best] as number)) best = i;
    });
    return choices[best] as string;
  }
  if (kind === 'integer') {
    const f = pyFloat(extraction);
    return f === null ? null : pyIntOfFloat(f);
  }
  if (kind === 'float') {
    const f = pyFloat(extraction);
    const p = precisionOf(precision);
    return f === null || p === null ? null : pyFloatRepr(pyRound(f, p));
  }
  if (kind === 'list') return extraction;
  throw new PermanentError('MathVista free-form items with answer type "text" have no rule upstream');
}

/** Python int(precision) for the values MathVista stores (1, 2.0, "2"), else null (int() fails). */
function precisionOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.max(0, Math.trunc(v)) : null;
  if (typeof v === 'string') return pyInt(v);
  return null;
}

/** The verdict on an extraction: normalised to the answer type, then compared with the answer text. */
function verdictOn(item: Item, ex: { text: string; how: string; trace?: JudgeTrace }): ScoreResult {
  const { choices, answer } = choicesAndAnswer(item);
  const kind = kindOf(item);
  const norm = mathvistaNormalize(ex.text, choices, kind, item.extra.precision);
  const how = `extraction: ${ex.how}`;
  const v =
    norm === null
      ? officialVerdict(false, ex.text || null, `${show(ex.text)} is not a valid ${kind} (${how})`)
      : officialVerdict(
          norm === answer,
          norm,
          `${show(norm)} ${norm === answer ? '=' : '≠'} ${show(answer)} (${how})`,
        );
  return ex.trace ? { ...v, judge: ex.trace } : v;
}

/** The LLM extraction step, done by the sweep's judge. */
async function judgeExtraction(item: Item, prediction: string, judge: JudgeContext): Promise<ScoreResult> {
  const { value, trace } = await judge.ask(
    { purpose: 'mathvista-extract', prompt: mathvistaExtractionPrompt(item, prediction) },
    readExtraction,
  );
  const how = `judge ${trace.model} extracted ${show(value)}${trace.cached ? ' (cached)' : ''}`;
  return verdictOn(item, { text: value, how, trace: { ...trace, verdict: value } });
}

export const mathvistaOfficial: OfficialScorer = {
  name: 'mathvista',
  source: 'lupantech/MathVista evaluation/calculate_score.py',
  usesJudge: true,
  score(item, prediction, judge) {
    const { choices } = choicesAndAnswer(item);
    const ex = mathvistaExtract(prediction, choices, kindOf(item));
    // The rules found nothing: upstream asks its LLM here; the judge does, when there is one.
    if (judge && ex.how.startsWith('no judge')) return judgeExtraction(item, prediction, judge);
    return verdictOn(item, ex);
  },
};
