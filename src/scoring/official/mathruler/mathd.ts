import { pyStrip } from '../py.ts';

/**
 * The MATH-style normalisation mathruler applies first (mathruler/math_normalize.py
 * normalize_answer / _strip_string): strip, drop an enclosing \text{}, line breaks, `\!`,
 * \left/\right, degree marks, `\$`, a trailing "\text{ unit}", percent signs, short "k = "
 * prefixes and spaces; write `\sqrt3` as `\sqrt{3}`, `\frac12` as `\frac{1}{2}`, `0.5` and
 * "a/b" of integers as fractions. Where the upstream code raises (a malformed \frac or \sqrt),
 * the stripped answer is returned, as upstream.
 */

class Malformed extends Error {}

function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0] as string;
  for (const sub of parts.slice(1)) {
    out += '\\frac';
    if (sub[0] === '{') {
      out += sub;
      continue;
    }
    if (sub.length < 2) return s;
    const a = sub[0] as string;
    const b = sub[1] as string;
    out += b !== '{' ? `{${a}}{${b}}${sub.slice(2)}` : `{${a}}${b}${sub.slice(2)}`;
  }
  return out;
}

function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts as [string, string];
  const int = (t: string) => (/^\s*[+-]?\d(?:_?\d)*\s*$/.test(t) ? BigInt(t.trim().replace(/_/g, '')) : null);
  const ia = int(a);
  const ib = int(b);
  if (ia === null || ib === null || s !== `${ia}/${ib}`) return s;
  return `\\frac{${ia}}{${ib}}`;
}

function removeRightUnits(s: string): string {
  if (!s.includes('\\text{ ')) return s;
  const splits = s.split('\\text{ ');
  if (splits.length !== 2) throw new Malformed();
  return splits[0] as string;
}

function fixSqrt(s: string): string {
  if (!s.includes('\\sqrt')) return s;
  const splits = s.split('\\sqrt');
  let out = splits[0] as string;
  for (const sp of splits.slice(1)) {
    if (sp.length === 0) throw new Malformed();
    out += sp[0] !== '{' ? `\\sqrt{${sp[0]}}${sp.slice(1)}` : `\\sqrt${sp}`;
  }
  return out;
}

function stripString(input: string): string {
  let s = input.replaceAll('\n', '').replaceAll('\\!', '').replaceAll('\\\\', '\\');
  s = s.replaceAll('tfrac', 'frac').replaceAll('dfrac', 'frac');
  s = s.replaceAll('\\left', '').replaceAll('\\right', '');
  s = s.replaceAll('^{\\circ}', '').replaceAll('^\\circ', '').replaceAll('\\$', '');
  s = removeRightUnits(s);
  s = s.replaceAll('\\%', '').replaceAll('%', '');
  s = s.replaceAll(' .', ' 0.').replaceAll('{.', '{0.');
  if (s.length === 0) return s;
  if (s[0] === '.') s = `0${s}`;
  const eq = s.split('=');
  if (eq.length === 2 && (eq[0] as string).length <= 2) s = eq[1] as string;
  s = fixSqrt(s);
  s = s.replaceAll(' ', '');
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  return fixASlashB(s);
}

/** normalize_answer. */
export function mathdNormalize(answer: string): string {
  let a = pyStrip(answer);
  const m = /^\\text\{(.+?)\}$/.exec(a);
  if (m) a = pyStrip(m[1] as string);
  try {
    return stripString(a);
  } catch (e) {
    if (e instanceof Malformed) return a;
    throw e;
  }
}
