import { lastBoxedOnly, MathStripError, removeBoxed, stripString } from './math-strip.ts';
import { type SympifyResult, sympifyToFloat } from './math-sympify.ts';
import { ci, PY_WS, pyRound2, pyRstrip, pyStrip } from './py.ts';
import type { FunctionVerdict } from './tagged.ts';

/**
 * The release's math reward (used for geometry3k and tallyqa):
 * 1. if the response has `<answer>…</answer>` (case-insensitive, across lines), only the last
 *    one's content is read; otherwise the whole response;
 * 2. the answer is the last `\boxed{…}` in it, else the first "the answer is …", "answer: …",
 *    "final answer …", "solution …" phrase (up to a '.', the end, or a literal "\n"/"\r"), else
 *    the whole text;
 * 3. it is correct when strip_string(answer) equals strip_string(target) or both evaluate (via
 *    SymPy) to numbers equal after round(x, 2). Only the first ground truth counts.
 * The score is 1 or 0. The release computes an "answer tag present" flag and then overwrites
 * it, so a response without tags is scored like one with tags.
 */

export type MathVerdict = (FunctionVerdict & { kind: 'scored' }) | { kind: 'undecided'; why: string };

class UndecidedEquiv extends Error {}

const LAST_ANSWER_TAG = new RegExp(`<${ci('answer')}>([\\s\\S]*?)</${ci('answer')}>`, 'gu');

function lastAnswerTag(s: string): string | null {
  if (!s) return null;
  const all = [...s.matchAll(LAST_ANSWER_TAG)];
  const last = all.at(-1);
  return last ? pyStrip(last[1] ?? '') : null;
}

const S = PY_WS;
const END = '(?:\\.|(?=\\n?$)|\\\\n|\\\\r)';
const PHRASES = [
  `${ci('the')}${S}+${ci('answer')}${S}+${ci('is')}${S}*:?${S}*([\\s\\S]+?)${END}`,
  `${ci('answer')}${S}*:?${S}*([\\s\\S]+?)${END}`,
  `${ci('the')}${S}+${ci('final')}${S}+${ci('answer')}${S}+${ci('is')}${S}*:?${S}*([\\s\\S]+?)${END}`,
  `${ci('final')}${S}+${ci('answer')}${S}*:?${S}*([\\s\\S]+?)${END}`,
  `${ci('solution')}${S}*:?${S}*([\\s\\S]+?)${END}`,
  `${ci('the')}${S}+${ci('solution')}${S}+${ci('is')}${S}*:?${S}*([\\s\\S]+?)${END}`,
].map((source) => new RegExp(source, 'u'));

function answerFromText(text: string): string | null {
  if (!text) return null;
  const lower = text.toLowerCase();
  for (const pattern of PHRASES) {
    const match = pattern.exec(lower);
    if (!match) continue;
    const answer = pyRstrip(pyStrip(pyStrip(match[1] ?? ''), '"\''), '.');
    if (answer) return answer;
  }
  return null;
}

/** latex_to_float: null for the release's None; throws UndecidedEquiv when only SymPy can tell. */
function latexToFloat(expr: string): number | null {
  let s: string;
  try {
    s = stripString(expr);
  } catch (err) {
    if (err instanceof MathStripError) return null;
    throw err;
  }
  s = s.replace(/\\frac\{([^}]*)\}\{([^}]*)\}/gu, (_m, a: string, b: string) => `(${a})/(${b})`);
  s = s.replace(/\\sqrt\{([^}]*)\}/gu, (_m, a: string) => `sqrt(${a})`);
  s = s.replaceAll('^', '**');
  const result = sympifyToFloat(s);
  if (result.kind === 'undecided') throw new UndecidedEquiv(`${JSON.stringify(s)}: ${result.why}`);
  return result.kind === 'value' ? result.value : null;
}

/** latex_to_float of the release's math reward, or `undecided` where only SymPy can tell. */
export function releaseLatexToFloat(expr: string): SympifyResult {
  try {
    const value = latexToFloat(expr);
    return value === null ? { kind: 'none' } : { kind: 'value', value };
  } catch (err) {
    if (err instanceof UndecidedEquiv) return { kind: 'undecided', why: err.message };
    throw err;
  }
}

/** is_equiv; throws UndecidedEquiv when the outcome depends on SymPy beyond what we evaluate. */
function isEquiv(answer: string, target: string): boolean {
  let ss1: string;
  let ss2: string;
  try {
    ss1 = stripString(answer);
    ss2 = stripString(target);
  } catch (err) {
    if (err instanceof MathStripError) return false;
    throw err;
  }
  if (ss1 === ss2) return true;
  // The target is evaluated second in the release; a None on either side means "not equal".
  const n2 = latexToFloat(ss2);
  if (n2 === null) return false;
  const n1 = latexToFloat(ss1);
  if (n1 === null) return false;
  return pyRound2(n1) === pyRound2(n2);
}

function pickAnswer(text: string): string {
  const boxed = lastBoxedOnly(text);
  if (boxed !== null) return removeBoxed(boxed);
  return answerFromText(text) ?? pyStrip(text);
}

/** The release's math compute_score on a whole response. */
export function scoreMath(response: string, groundTruth: string[]): MathVerdict {
  const text = lastAnswerTag(response) ?? response;
  const target = groundTruth[0] ?? '';
  let answer: string;
  try {
    answer = pickAnswer(text);
  } catch (err) {
    if (err instanceof MathStripError) return { kind: 'scored', score: 0, extracted: pyStrip(text) };
    throw err;
  }
  if (!answer) return { kind: 'scored', score: 0, extracted: answer };
  try {
    return { kind: 'scored', score: isEquiv(answer, target) ? 1 : 0, extracted: answer };
  } catch (err) {
    if (err instanceof UndecidedEquiv) return { kind: 'undecided', why: err.message };
    throw err;
  }
}
