/**
 * The few Python built-in behaviours the scorers of record rely on, so that a rule written
 * as `s.strip()` or `float(s)` upstream means the same thing here.
 */

/** Characters Python's `str.isspace()` accepts, which `str.strip()` removes (not U+FEFF, unlike JS `trim`). */
const PY_SPACE = new Set([
  ...'\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006',
  ...'\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000',
]);

export function isPySpace(ch: string): boolean {
  return PY_SPACE.has(ch);
}

/** Python `s.strip()`, or `s.strip(chars)` when chars are given. */
export function pyStrip(s: string, chars?: string): string {
  const drop = chars === undefined ? isPySpace : (c: string) => chars.includes(c);
  let start = 0;
  let end = s.length;
  while (start < end && drop(s[start] as string)) start++;
  while (end > start && drop(s[end - 1] as string)) end--;
  return s.slice(start, end);
}

/** Python `s.rstrip(chars)` (whitespace without chars). */
export function pyRstrip(s: string, chars?: string): string {
  const drop = chars === undefined ? isPySpace : (c: string) => chars.includes(c);
  let end = s.length;
  while (end > 0 && drop(s[end - 1] as string)) end--;
  return s.slice(0, end);
}

/** Python `s.split()`: runs of whitespace separate words; no empty words. */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let word = '';
  for (const ch of s) {
    if (isPySpace(ch)) {
      if (word !== '') out.push(word);
      word = '';
    } else word += ch;
  }
  if (word !== '') out.push(word);
  return out;
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const PY_FLOAT = new RegExp(
  String.raw`^[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf|infinity|nan)$`,
  'i',
);

/**
 * Python `float(s)`, or null where it raises ValueError: surrounding whitespace allowed,
 * `_` between digits, exponents, `inf`/`nan`; no thousands separators, no `%`, no units.
 * (ASCII digits only: Python also reads other Unicode decimal digits.)
 */
export function pyFloat(s: string): number | null {
  const t = pyStrip(s);
  if (!PY_FLOAT.test(t)) return null;
  const body = t.replace(/_/g, '').toLowerCase();
  const sign = body.startsWith('-') ? -1 : 1;
  const unsigned = body.replace(/^[+-]/, '');
  if (unsigned === 'inf' || unsigned === 'infinity') return sign * Number.POSITIVE_INFINITY;
  if (unsigned === 'nan') return Number.NaN;
  return Number(body);
}

/** Python `int(s)` for base-10 text, or null where it raises ValueError. */
export function pyInt(s: string): number | null {
  const t = pyStrip(s);
  if (!/^[+-]?\d(?:_?\d)*$/.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}
