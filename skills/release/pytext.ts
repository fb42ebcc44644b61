/** Python string behaviour the release's skills rely on. */

const PY_SPACE =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** `str.strip()` with Python's whitespace set. */
export function pyStrip(s: string): string {
  return s.replace(STRIP, '');
}

/** How an f-string shows a value the release may hold as None. */
export function pyStr(s: string | null): string {
  return s === null ? 'None' : s;
}

/** The release's `_remove_think_content`: drops `<think>…</think>` blocks, then strips. */
export function removeThink(text: string | null): string | null {
  if (text === null || text === '') return text;
  return pyStrip(text.replace(/<think>[\s\S]*?<\/think>/gi, ''));
}

/** The last `n` characters as Python counts them (code points). */
export function pyTail(s: string, n: number): string {
  const cps = Array.from(s);
  return cps.length > n ? cps.slice(-n).join('') : s;
}
