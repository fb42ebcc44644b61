import { pyStrip } from '../py.ts';
import { mathdNormalize } from './mathd.ts';
import { graderNormalize, strIsInt, stripCommas } from './normalize.ts';
import { closedFormEqual } from './numeric.ts';

/**
 * mathruler's grade_answer (mathruler/grader.py): right when the MATH-normalised forms are
 * equal, or mathruler's own normalised forms are equal, or, element by element for tuples and
 * intervals with the same brackets, fractions are written identically, integers stay integers
 * and the difference simplifies to 0 (closedFormEqual stands in for sympy).
 */

const TUPLE_CHARS = '()[]';
const BAD_SUBSTRINGS = ['^{', '^('];
const BAD_REGEXES = [/\^[0-9]+\^/, /\^[0-9][0-9]+/];

/** split_tuple. */
export function splitTuple(input: string): string[] {
  const expr = stripCommas(input);
  if (expr.length === 0) return [];
  const inner = expr.slice(1, -1);
  if (
    expr.length > 2 &&
    TUPLE_CHARS.includes(expr[0] as string) &&
    TUPLE_CHARS.includes(expr[expr.length - 1] as string) &&
    ![...TUPLE_CHARS].some((c) => inner.includes(c))
  ) {
    return inner.split(',').map((e) => pyStrip(e));
  }
  return [expr];
}

const isFrac = (e: string) => /^-?[0-9]+.?\/0*[1-9][0-9]*.?$/.test(e);

function shouldAllowEval(expr: string): boolean {
  const letters = new Set(
    [...expr.replaceAll('sqrt', '').replaceAll('frac', '')].filter((c) => /\p{L}/u.test(c)),
  );
  if (letters.size > 2) return false;
  if (BAD_SUBSTRINGS.some((b) => expr.includes(b))) return false;
  return !BAD_REGEXES.some((r) => r.test(expr));
}

function elementsEqual(gt: string, given: string): boolean {
  if (isFrac(gt) && isFrac(given)) return gt === given;
  if (strIsInt(gt) !== strIsInt(given)) return false;
  if (!shouldAllowEval(`(${gt})-(${given})`)) return false;
  return closedFormEqual(gt, given);
}

export function gradeAnswer(given: string, truth: string): boolean {
  if (mathdNormalize(truth) === mathdNormalize(given)) return true;
  const gt = graderNormalize(truth);
  const gv = graderNormalize(given);
  if (gt === gv) return true;
  if (gv.length === 0) return false;
  const gtElems = splitTuple(gt);
  const gvElems = splitTuple(gv);
  if (gtElems.length > 1 && (gt[0] !== gv[0] || gt[gt.length - 1] !== gv[gv.length - 1])) return false;
  if (gtElems.length !== gvElems.length) return false;
  return gtElems.every((g, i) => elementsEqual(g, gvElems[i] as string));
}

/** extract_boxed_content: the last \boxed{…} content, stripped, or "None". */
export function extractBoxedContent(text: string): string {
  const start = text.lastIndexOf('\\boxed{');
  if (start < 0) return 'None';
  const content = text.slice(start + '\\boxed{'.length);
  let depth = 0;
  for (let i = 0; i < content.length; i++) {
    if (content[i] === '{') depth++;
    else if (content[i] === '}') depth--;
    if (depth === -1) return pyStrip(content.slice(0, i));
  }
  return 'None';
}
