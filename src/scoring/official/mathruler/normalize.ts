import { pyFloat, pyRound } from '../py.ts';
import { latexToText } from './latex-text.ts';

/**
 * mathruler's own normalisation (mathruler/grader.py _normalize): drop an enclosing \text{},
 * `$` and `%`, turn " or " / " and " into commas, million/billion/trillion into powers of ten,
 * remove unit words (degree, cm, meter, …, with plural and power) and degree marks, one pair
 * of enclosing braces and ",\!" separators; an integral float becomes an integer; LaTeX is
 * rendered as text (latexToText) with √ → sqrt, π → pi, ∞ → inf, ∪ → U, · and × → *; spaces
 * and braces go, "7 3/4" becomes "7+3/4", everything is lower-cased, and an integer with
 * well-formed thousands separators becomes a plain integer.
 */

const UNITS = [
  'degree',
  'cm',
  'centimeter',
  'meter',
  'mile',
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
  'foot',
  'feet',
  'inch',
  'yard',
];

/** _strip_properly_formatted_commas. */
export function stripCommas(expr: string): string {
  const p = /(\d)(,)(\d\d\d)($|\D)/g;
  let e = expr;
  for (;;) {
    const next = e.replace(p, '$1$3$4');
    if (next === e) return next;
    e = next;
  }
}

const isInt = (x: number) => Number.isFinite(x) && Math.abs(x - pyRound(x, 0)) <= 1e-7;

/** _str_is_int. */
export function strIsInt(x: string): boolean {
  const f = pyFloat(stripCommas(x));
  return f !== null && isInt(f);
}

function parseLatex(expr: string): string {
  let e = expr
    .replaceAll('\\tfrac', '\\frac')
    .replaceAll('\\dfrac', '\\frac')
    .replaceAll('\\frac', ' \\frac');
  e = latexToText(e);
  e = e.replaceAll('√', 'sqrt').replaceAll('π', 'pi').replaceAll('∞', 'inf').replaceAll('∪', 'U');
  return e.replaceAll('·', '*').replaceAll('×', '*').trim();
}

/** _normalize. */
export function graderNormalize(input: string): string {
  let expr = input;
  const m = /^\\text\{(.+?)\}$/.exec(expr);
  if (m) expr = m[1] as string;
  expr = expr.replaceAll('\\%', '%').replaceAll('\\$', '$').replaceAll('$', '').replaceAll('%', '');
  expr = expr.replaceAll(' or ', ' , ').replaceAll(' and ', ' , ');
  expr = expr.replaceAll('million', '*10^6').replaceAll('billion', '*10^9').replaceAll('trillion', '*10^12');
  for (const unit of UNITS) expr = expr.replace(new RegExp(`${unit}(es)?(s)? *(\\^[0-9]+)?`, 'g'), '');
  expr = expr.replace(/\^ *\\circ/g, '');
  if (expr.length > 0 && expr[0] === '{' && expr[expr.length - 1] === '}') expr = expr.slice(1, -1);
  expr = expr.replace(/,\\! */g, '');
  const f = pyFloat(expr);
  if (f !== null && isInt(f)) expr = String(BigInt(pyRound(f, 0)));
  if (expr.includes('\\')) expr = parseLatex(expr);
  expr = expr.replace(/- */g, '-');
  expr = expr.replace(/([0-9]) +([0-9])/g, '$1+$2');
  expr = expr.replaceAll(' ', '').replaceAll('{', '').replaceAll('}', '').toLowerCase();
  if (strIsInt(expr)) expr = String(BigInt(Math.trunc(pyFloat(expr.replaceAll(',', '')) ?? 0)));
  return expr;
}
