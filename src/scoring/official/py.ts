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

/** Python `repr(x)` / `str(x)` of a float: shortest round-trip digits, `.0` on integral values. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const decpt = Number(expText) + 1;
  const sign = x < 0 ? '-' : '';
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const e = decpt - 1;
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/**
 * Python `round(x, n)` for a float and n ≥ 0: the exact binary value rounded to n decimals,
 * an exact tie going to the even digit (JS `toFixed` sends ties away from zero).
 */
export function pyRound(x: number, n: number): number {
  if (!Number.isFinite(x) || n > 100) return x;
  const fixed = Math.abs(x).toFixed(Math.min(100, n + 60));
  const point = fixed.indexOf('.');
  const tail = fixed.slice(point + 1 + n);
  const isTie = tail[0] === '5' && /^0*$/.test(tail.slice(1));
  let r = Number(Math.abs(x).toFixed(n));
  if (isTie) {
    const keep = fixed.slice(0, point + 1 + n).replace('.', '');
    const lastDigit = Number(keep[keep.length - 1] ?? '0');
    if (lastDigit % 2 === 0) r = Number(fixed.slice(0, n === 0 ? point : point + 1 + n));
  }
  return x < 0 ? -r : r;
}

/** Python `str(int(x))` for a float (truncation toward zero), or null where int() raises. */
export function pyIntOfFloat(x: number): string | null {
  if (!Number.isFinite(x)) return null;
  return BigInt(Math.trunc(x)).toString();
}
