/**
 * Text and number normalisation shared by the metrics. Everything here is linear in the
 * input: trimming is done with loops, and the few regexes are anchored or have no nested
 * quantifiers, so hostile model output cannot make scoring slow.
 */

const EDGE_WRAPPERS = new Set(['*', '_', '`', '"', "'", '“', '”', '‘', '’', '«', '»']);
const LEADING_PUNCT = new Set([':', ';', ',', '：']);
const TRAILING_PUNCT = new Set(['.', ',', ';', ':', '!', '?', '。', '，', '：']);

function isSpace(ch: string): boolean {
  return (
    ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\u00a0'
  );
}

/**
 * Strips what surrounds an answer without being part of it: whitespace, markdown emphasis
 * and code ticks, quotes, a leading colon/comma and trailing sentence punctuation.
 * Brackets are kept: "(B)" and "[1, 2]" mean something.
 */
export function cleanAnswer(text: string): string {
  let start = 0;
  let end = text.length;
  let changed = true;
  while (changed && start < end) {
    changed = false;
    while (start < end) {
      const ch = text[start] as string;
      if (isSpace(ch) || EDGE_WRAPPERS.has(ch) || LEADING_PUNCT.has(ch)) {
        start++;
        changed = true;
      } else break;
    }
    while (end > start) {
      const ch = text[end - 1] as string;
      if (isSpace(ch) || EDGE_WRAPPERS.has(ch) || TRAILING_PUNCT.has(ch)) {
        end--;
        changed = true;
      } else break;
    }
  }
  return text.slice(start, end);
}

/** Lowercase, single spaces, no surrounding punctuation or quotes. */
export function normText(text: string): string {
  return cleanAnswer(cleanAnswer(text).toLowerCase().replace(/\s+/g, ' '));
}

/** Lowercase with all whitespace removed. */
export function squash(text: string): string {
  return text.toLowerCase().replace(/\s+/g, '');
}

const PAIRS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Removes brackets that wrap the whole text: "(B)" → "B", "{3}" → "3", but not "(a) or (b)". */
export function stripOuterBrackets(text: string): string {
  let t = text.trim();
  for (let guard = 0; guard < 5 && t.length >= 2; guard++) {
    const open = t[0] as string;
    const close = PAIRS[open];
    if (!close || t[t.length - 1] !== close) break;
    let depth = 0;
    let wrapsAll = true;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === open) depth++;
      else if (t[i] === close) {
        depth--;
        if (depth === 0 && i < t.length - 1) {
          wrapsAll = false;
          break;
        }
      }
    }
    if (!wrapsAll) break;
    t = t.slice(1, -1).trim();
  }
  return t;
}

/** Maps yes/no/true/false (any case, surrounding punctuation ignored) to 'yes' or 'no'. */
export function yesNo(text: string): 'yes' | 'no' | null {
  const t = stripOuterBrackets(normText(text));
  if (t === 'yes' || t === 'true') return 'yes';
  if (t === 'no' || t === 'false') return 'no';
  return null;
}

export interface ParsedNumber {
  value: number;
  /** The text ended in a percent sign (the value is the number before it, not divided by 100). */
  percent: boolean;
}

// Grouped thousands ("1,234,567.8") or plain digits; optional exponent and percent sign.
const NUMBER_RE = /^([+-]?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d{1,3}))?(%?)$/;

/**
 * Parses text that is a number and nothing else: sign, currency symbol, thousands
 * separators ("1,234.5"), decimals, exponent and a trailing percent sign are allowed.
 * Returns null for anything else ("3 apples", "1,23", "").
 */
export function parseNumber(text: string): ParsedNumber | null {
  if (text.length > 100) return null;
  let t = text.trim().replace(/\u2212/g, '-');
  t = t.replace(/^([+-]?)\s*[$€£¥]\s*/, '$1').replace(/\s+%$/, '%');
  const m = NUMBER_RE.exec(t);
  if (!m) return null;
  const digits = (m[2] as string).replace(/,/g, '');
  const value = Number(`${m[1]}${digits}${m[3] !== undefined ? `e${m[3]}` : ''}`);
  if (!Number.isFinite(value)) return null;
  return { value, percent: m[4] === '%' };
}

/**
 * Rounds half away from zero to `digits` decimals. A relative nudge of a few ulps makes
 * decimal ties that binary floating point stores just below (1.005) round up, as a person would.
 */
export function roundTo(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  const m = Math.abs(x) * f;
  const r = Math.round(m + m * Number.EPSILON * 8);
  const out = (Math.sign(x) * r) / f;
  return Object.is(out, -0) ? 0 : out;
}

/** Numbers equal up to floating-point noise. */
export function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** A number for messages: integers as is, others with up to 6 significant digits. */
export function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

/** The accepted answers of an item, trimmed, empty ones dropped. */
export function acceptedAnswers(answers: readonly string[]): string[] {
  return answers.map((a) => a.trim()).filter((a) => a.length > 0);
}
