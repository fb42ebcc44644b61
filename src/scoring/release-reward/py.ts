/**
 * Python 3.11 string semantics the release's reward functions rely on, written out so the
 * TypeScript port behaves the same on every input, not only on ASCII:
 * - `\s` and `str.strip()` use Python's whitespace set (it differs from JavaScript's `\s`);
 * - `re.IGNORECASE` also folds `ſ`→s, `K`(Kelvin)→k and `İ`/`ı`→i, which JavaScript does not;
 * - `.` without DOTALL excludes only `\n` (JavaScript also excludes `\r`, U+2028, U+2029);
 * - `len()` and indexing count code points, not UTF-16 units;
 * - `float()`, `int()` and `round(x, 2)` follow Python's parsing and rounding rules.
 */

/** The characters Python's `str.isspace()` (and `re`'s `\s` on str patterns) accepts. */
export const PY_WS_CHARS =
  '\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005' +
  '\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** Regex source for one Python `\s` character. */
export const PY_WS =
  '[\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

/** Regex source for Python's `.` without DOTALL. */
export const PY_DOT = '[^\\n]';

/** `string.punctuation + string.whitespace`. */
export const PUNCT_AND_ASCII_WS = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\u000b\u000c';

const FOLDS: Record<string, string> = {
  i: 'Ii\\u0130\\u0131',
  k: 'Kk\\u212a',
  s: 'Ss\\u017f',
};

function escapeRegex(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * Regex source matching `literal` the way Python's `re.IGNORECASE` does (ASCII letters plus
 * the non-ASCII characters Python folds onto them).
 */
export function ci(literal: string): string {
  let out = '';
  for (const ch of literal) {
    const lower = ch.toLowerCase();
    if (/^[a-z]$/.test(lower)) out += `[${FOLDS[lower] ?? `${lower.toUpperCase()}${lower}`}]`;
    else out += escapeRegex(ch);
  }
  return out;
}

/**
 * Whether a strip set holds only characters of one UTF-16 unit: then scanning units finds
 * the same ends as scanning code points (a surrogate half is never in the set).
 */
const singleUnits = (chars: string) => !/[\uD800-\uDFFF]/.test(chars);

/** Python `s.strip(chars)`; without `chars`, Python's whitespace. */
export function pyStrip(s: string, chars: string = PY_WS_CHARS): string {
  if (chars === PY_WS_CHARS || singleUnits(chars)) {
    let start = 0;
    let end = s.length;
    while (start < end && chars.includes(s[start]!)) start++;
    while (end > start && chars.includes(s[end - 1]!)) end--;
    return start === 0 && end === s.length ? s : s.slice(start, end);
  }
  // Code points compared whole: a lone surrogate is not a character of the set it is half of.
  const set = new Set(chars);
  const cps = Array.from(s);
  let start = 0;
  let end = cps.length;
  while (start < end && set.has(cps[start]!)) start++;
  while (end > start && set.has(cps[end - 1]!)) end--;
  return cps.slice(start, end).join('');
}

/** Python `s.rstrip(chars)`. */
export function pyRstrip(s: string, chars: string): string {
  if (singleUnits(chars)) {
    let end = s.length;
    while (end > 0 && chars.includes(s[end - 1]!)) end--;
    return end === s.length ? s : s.slice(0, end);
  }
  const set = new Set(chars);
  const cps = Array.from(s);
  let end = cps.length;
  while (end > 0 && set.has(cps[end - 1]!)) end--;
  return cps.slice(0, end).join('');
}

/** Python `len(s)`: code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python `str.lower()` (full Unicode mapping, as JavaScript's). */
export function pyLower(s: string): string {
  return s.toLowerCase();
}

const DIGIT_RUN = '\\p{Nd}(?:_?\\p{Nd})*';
const PY_FLOAT = new RegExp(
  `^[+-]?(?:(?:${DIGIT_RUN}(?:\\.(?:${DIGIT_RUN})?)?|\\.${DIGIT_RUN})(?:[eE][+-]?${DIGIT_RUN})?|inf|infinity|nan)$`,
  'iu',
);

const ND = /^\p{Nd}$/u;

/**
 * Replaces every Unicode decimal digit with its ASCII digit. Unicode lays out each
 * decimal-digit script as contiguous runs of ten, 0 to 9, so the value is the distance from
 * the start of the run, modulo 10.
 */
function asciiDigits(s: string): string {
  return s.replace(/\p{Nd}/gu, (d) => {
    const cp = d.codePointAt(0)!;
    if (cp < 0x80) return d;
    let back = 0;
    while (ND.test(String.fromCodePoint(cp - back - 1))) back++;
    return String(back % 10);
  });
}

/**
 * Python `float(s)`: the value, or null where Python raises ValueError. Accepts surrounding
 * whitespace, Unicode digits, `_` between digits, `inf`/`infinity`/`nan`.
 */
export function pyFloat(s: string): number | null {
  const t = pyStrip(s);
  if (!PY_FLOAT.test(t)) return null;
  const plain = asciiDigits(t).replace(/_/g, '').toLowerCase();
  const body = plain.replace(/^[+-]/, '');
  const negative = plain.startsWith('-');
  if (body === 'inf' || body === 'infinity') return negative ? -Infinity : Infinity;
  if (body === 'nan') return Number.NaN;
  return Number(plain);
}

const PY_INT = /^[+-]?\p{Nd}(?:_?\p{Nd})*$/u;

/** Whether Python `int(s)` (base 10) accepts `s`. */
export function pyIntParses(s: string): boolean {
  return PY_INT.test(pyStrip(s));
}

/** Python `str(int(s))` for a string `int()` accepts. */
export function pyIntCanonical(s: string): string {
  const plain = asciiDigits(pyStrip(s)).replace(/_/g, '');
  return BigInt(plain).toString();
}

/** The exact value of a finite double as mantissa × 2^exponent. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const rawExp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  if (rawExp === 0) return { mantissa: frac, exponent: -1074 };
  return { mantissa: frac | (1n << 52n), exponent: rawExp - 1075 };
}

/**
 * Python `round(x, 2)` for a float: the exact binary value rounded half-to-even to two
 * decimals, then converted back to the nearest double.
 */
export function pyRound2(x: number): number {
  // Whole numbers (and 0, inf, nan) are their own rounding.
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  const { mantissa, exponent } = decompose(x);
  let hundredths: bigint;
  if (exponent >= 0) hundredths = mantissa * 100n * (1n << BigInt(exponent));
  else {
    const denom = 1n << BigInt(-exponent);
    const scaled = mantissa * 100n;
    const q = scaled / denom;
    const twice = 2n * (scaled % denom);
    hundredths = twice > denom || (twice === denom && q % 2n === 1n) ? q + 1n : q;
  }
  const magnitude = Number(`${hundredths}e-2`);
  return x < 0 ? -magnitude : magnitude;
}

/** Python `a in b` for strings (an empty `a` is in everything). */
export function pyIn(needle: string, haystack: string): boolean {
  return haystack.includes(needle);
}
